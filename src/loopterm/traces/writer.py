"""The trace writer: an event sink that appends and flushes as events happen.

A crash or kill loses at most the line being written. ``race.json`` is
replaced atomically (write to a temp file, then rename), so it is never torn.

While a race is being written its writer holds an exclusive ``flock`` on
``race.lock`` in the race folder (the file holds the writer's pid, for
people). The OS drops the lock when the process dies, even on ``kill -9``, so
"is this race still being written?" is exact: the lock is held. A writer that
finishes removes the file; a killed one leaves it behind, unlocked.

No line is longer than ``TRACE_LINE_MAX_BYTES`` (``loopterm.bounds``): the
engine already bounds what an event holds, and an event that still comes out
bigger is written with its biggest text fields cut (each ends in a
``[cut: N more]`` marker) and a ``cut_to_fit`` note saying what was cut; it is
never dropped, and it reads back as the same kind of event.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path
from typing import IO, Any

from loopterm.bounds import TRACE_LINE_MAX_BYTES, clip, fmt_size, utf8_size
from loopterm.events import Event, RaceDone, RaceStarted, dump_event

HEADER = "race.json"
LOCK = "race.lock"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


# Room kept for the ``cut_to_fit`` note, and the least of a text field kept before lists are shortened.
_NOTE_ROOM = 1024
_MIN_FIELD = 256

Leaf = tuple[dict[str, Any] | list[Any], Any, str, str]  # container, key or index, dotted path, original text


def bounded_line(line: str, limit: int = TRACE_LINE_MAX_BYTES) -> str:
    """``line`` (one event as JSON) when it fits in ``limit`` UTF-8 bytes, else the event cut to fit.

    The long strings are cut first, to one common length (so a 7 MB field
    loses most and a short one nothing); only when every string is down to
    ``_MIN_FIELD`` bytes are the longest lists shortened, keeping their first
    items. A ``cut_to_fit`` field names what was cut; readers ignore fields
    they do not know. The last resort, for an event with nothing left to cut,
    keeps only its identity (type, schema, t, lane, turn) and the note: never
    a line over the limit. Work is linear in the event's size, a few passes.
    """
    if _fits(line, limit):
        return line
    size = utf8_size(line)
    data = json.loads(line)
    if not isinstance(data, dict):
        return _stub({}, size, limit)
    budget = limit - _NOTE_ROOM
    leaves = _long_strings(data, "", [])
    sizes = [utf8_size(_dumps(text)) - 2 for *_, text in leaves]  # as written: escapes count
    skeleton = size - sum(sizes)  # what cutting those strings cannot save
    level = max(_MIN_FIELD, _water_level(sizes, budget - skeleton))
    cut: list[str] = []
    while True:
        cut = []
        for node, key, path, text in leaves:
            node[key] = clip(text, level)
            if node[key] is not text:
                cut.append(path)
        out = _dumps(data)
        if _fits(out, budget):
            return _noted(data, _note(size, limit, leaves, cut, {}))
        if level == _MIN_FIELD:
            break
        level = max(_MIN_FIELD, level * 3 // 4)  # JSON escapes made the strings bigger than they count
    # Strings alone cannot make it fit: too many items. Shorten the longest lists, keeping their first items.
    dropped: dict[str, int] = {}
    lists = _lists(data, "", [])
    longest = max((len(items) for _, items in lists), default=0)
    keep = int(longest * budget / max(1, utf8_size(out)))
    while longest:
        for path, items in lists:
            if len(items) > keep:
                dropped[path] = dropped.get(path, 0) + len(items) - keep
                del items[keep:]
        out = _dumps(data)
        if _fits(out, budget):
            return _noted(data, _note(size, limit, leaves, cut, dropped))
        if keep == 0:
            break
        keep //= 2
    return _stub(data, size, limit)


def _fits(text: str, limit: int) -> bool:
    return len(text) <= limit and (text.isascii() or utf8_size(text) <= limit)


def _children(node: Any) -> Any:
    if isinstance(node, dict):
        return node.items()
    return enumerate(node) if isinstance(node, list) else ()


def _path(path: str, key: Any) -> str:
    return f"{path}.{key}".lstrip(".") if isinstance(key, str) else f"{path}[{key}]"


def _long_strings(node: Any, path: str, found: list[Leaf]) -> list[Leaf]:
    """The strings under ``node`` longer than ``_MIN_FIELD`` bytes (shorter ones are never cut)."""
    for key, value in _children(node):
        if isinstance(value, str):
            if len(value) > _MIN_FIELD // 4 and not _fits(value, _MIN_FIELD):
                found.append((node, key, _path(path, key), value))
        elif isinstance(value, dict | list):
            _long_strings(value, _path(path, key), found)
    return found


def _lists(node: Any, path: str, found: list[tuple[str, list[Any]]]) -> list[tuple[str, list[Any]]]:
    """Every list under ``node`` of more than one item, with its path."""
    if isinstance(node, list) and len(node) > 1:
        found.append((path or "(the event)", node))
    for key, value in _children(node):
        if isinstance(value, dict | list):
            _lists(value, _path(path, key), found)
    return found


def _water_level(sizes: list[int], room: int) -> int:
    """The largest common length L such that the strings, each cut to L, fit in ``room`` bytes."""
    count = len(sizes)
    for size in sorted(sizes):
        share = room // count
        if size > share:
            return max(0, share)
        room -= size
        count -= 1
    return max(sizes, default=0)


def _note(size: int, limit: int, leaves: list[Leaf], cut: list[str], dropped: dict[str, int]) -> str:
    original = {path: utf8_size(text) for _, _, path, text in leaves}
    fields = sorted(cut, key=lambda p: -original[p])
    parts = [f"{p} ({fmt_size(original[p])})" for p in fields[:5]]
    if len(fields) > 5:
        parts.append(f"and {len(fields) - 5} more")
    note = f"this {fmt_size(size)} event was cut to fit the {fmt_size(limit)} trace line limit"
    if parts:
        note += ": text cut in " + ", ".join(parts)
    if dropped:
        note += "; items dropped from " + ", ".join(f"{p} ({n})" for p, n in list(dropped.items())[:5])
    return clip(note, _NOTE_ROOM // 2)


def _noted(data: dict[str, Any], note: str) -> str:
    data["cut_to_fit"] = note
    return _dumps(data)


def _stub(data: dict[str, Any], size: int, limit: int) -> str:
    """Only the event's identity and a note: what is left when nothing else can be cut."""
    keep = {
        key: value
        for key, value in data.items()
        if key in ("schema", "t", "type", "lane", "turn")
        and not isinstance(value, dict | list)
        and not (isinstance(value, str) and not _fits(value, _MIN_FIELD))
    }
    keep["cut_to_fit"] = (
        f"this {fmt_size(size)} event did not fit the {fmt_size(limit)} trace line limit; only its identity is kept"
    )
    return _dumps(keep)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def writer_pid(folder: Path) -> int | None:
    """The pid of the live process writing ``folder``, or None when no process holds its lock.

    A held lock whose file holds no readable pid still counts as live (pid 0):
    the writer is between creating the file and writing its pid.
    """
    try:
        fd = os.open(folder / LOCK, os.O_RDONLY)
    except OSError:
        return None  # no lock file: finished, or written by a loopterm from before the lock
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            text = os.read(fd, 32).decode("ascii", "replace").strip()
            return int(text) if text.isdigit() else 0
        except OSError:
            return None  # a filesystem without flock: nothing is known to hold it
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


class FolderLock:
    """An exclusive hold on a race folder that no writer holds (for deleting it); a context manager.

    Entering raises ``BlockingIOError`` when a writer holds the folder. Holding
    the lock while deleting closes the gap between "not live" and the delete.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._fd: int | None = None

    def __enter__(self) -> FolderLock:
        try:
            self._fd = os.open(self.folder / LOCK, os.O_RDONLY)
        except OSError:
            return self  # no lock file: no writer since the lock existed
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            self._fd = None
            raise
        except OSError:
            pass  # no flock on this filesystem: nothing can hold it either
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class TraceWriter:
    """Call it with each event; it creates ``root/<race_id>/`` on race_started."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder: Path | None = None
        self._files: dict[str, IO[str]] = {}
        self._header: dict[str, Any] | None = None
        self._lock: int | None = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, RaceStarted):
            self._start(event)
        elif isinstance(event, RaceDone):
            self._finish(event)
        else:
            self._append(event.lane, bounded_line(dump_event(event)))

    def _start(self, event: RaceStarted) -> None:
        self.folder = self.root / event.race_id
        self.folder.mkdir(parents=True, exist_ok=False)
        self._hold_lock(self.folder)
        self._header = {
            "status": "running",
            "race_started": json.loads(dump_event(event)),
            "race_done": None,
        }
        _write_atomic(self.folder / HEADER, json.dumps(self._header, indent=2))
        for lane in event.lanes:
            # Created up front so a lane that never got to run still has its file.
            self._open(lane.run_id)

    def _hold_lock(self, folder: Path) -> None:
        """Lock the folder for this writer's lifetime: rm and prune leave a locked race alone."""
        fd = os.open(folder / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise
        except OSError:
            pass  # a filesystem without flock: the race still records, it is just not protected
        os.write(fd, str(os.getpid()).encode("ascii"))
        os.fsync(fd)
        self._lock = fd

    def _open(self, run_id: str) -> IO[str]:
        if run_id not in self._files:
            assert self.folder is not None, "race_started must come first"
            self._files[run_id] = (self.folder / f"{run_id}.jsonl").open("a", encoding="utf-8")
        return self._files[run_id]

    def _append(self, run_id: str, line: str) -> None:
        fh = self._open(run_id)
        fh.write(line + "\n")
        fh.flush()

    def _finish(self, event: RaceDone) -> None:
        assert self.folder is not None and self._header is not None
        self._header["status"] = "aborted" if event.aborted else "complete"
        self._header["race_done"] = json.loads(dump_event(event))
        _write_atomic(self.folder / HEADER, json.dumps(self._header, indent=2))
        self.close()

    def close(self) -> None:
        for fh in self._files.values():
            fh.close()
        self._files.clear()
        if self._lock is not None:
            # Unlink while still holding the lock, so no reader sees an unlocked file of a live race.
            if self.folder is not None:
                # Already gone means the folder was deleted behind our back: nothing to remove.
                with contextlib.suppress(OSError):
                    (self.folder / LOCK).unlink()
            os.close(self._lock)
            self._lock = None
