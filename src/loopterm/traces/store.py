"""The stored races: listing, finding one by id, prefix or path, and deleting.

Listing is cheap on purpose: it reads each race's small ``race.json`` and only
the tail of each lane file (a lane's last line is its ``lane_done`` when it
finished), never the whole trace. Deleting is careful on purpose: only a
folder directly under the traces dir that holds a ``race.json`` is ever
removed, so a typo or a path cannot reach anything else.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from loopterm.events import SCHEMA_VERSION, Outcome, newer_schema
from loopterm.traces.writer import HEADER, FolderLock, writer_pid

TAIL_BYTES = 8192
OUTCOME_ORDER = [o.value for o in Outcome]
UNFINISHED = "unfinished"
CANDIDATES_SHOWN = 5


class StoreError(ValueError):
    """An id or path that names no race (or more than one); the message says what to do."""


@dataclass
class TraceInfo:
    """One stored race as the listing shows it."""

    race_id: str
    folder: Path
    status: str  # complete, aborted, incomplete (no end record), damaged, newer schema
    started_at: str | None = None  # RFC 3339 UTC, as recorded
    task_id: str = "?"
    task_hash: str = ""
    kind: str = "race"
    lanes: list[str] = field(default_factory=list)  # lane names, in race order
    outcomes: dict[str, int] = field(default_factory=dict)  # Outcome value (or "unfinished") -> lanes
    size: int = 0  # bytes of every file in the folder
    rescore_of: str | None = None
    bench_id: str | None = None
    modified: float = 0.0  # newest mtime of any file in the folder (epoch seconds)
    problem: str | None = None  # why the header could not be read, when it could not
    writer: int | None = None  # pid of the live process still writing it (0: pid not known yet)

    @property
    def name(self) -> str:
        """The folder's name: what ``resolve`` and ``rm`` take (the recorded id unless it was renamed)."""
        return self.folder.name

    @property
    def started(self) -> datetime:
        """When the race started; the folder's last change when the header does not say."""
        if self.started_at:
            try:
                return datetime.fromisoformat(self.started_at.replace("Z", "+00:00"))
            except ValueError:
                pass
        return datetime.fromtimestamp(self.modified, UTC)

    def live(self) -> bool:
        """Still being written: a live process holds the race's lock (read when the info was made)."""
        return self.writer is not None

    def outcomes_text(self) -> str:
        """ "PASS 2 · turn limit 1" in the order outcomes are defined, in the tables' words."""
        return " · ".join(f"{_outcome_word(name)} {count}" for name, count in self.outcomes.items()) or "-"

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.race_id,
            "folder": self.name,
            "path": str(self.folder),
            "started_at": self.started_at,
            "task": self.task_id,
            "task_hash": self.task_hash,
            "kind": self.kind,
            "lanes": self.lanes,
            "outcomes": self.outcomes,
            "status": self.status,
            "size_bytes": self.size,
            "rescore_of": self.rescore_of,
            "bench_id": self.bench_id,
            "problem": self.problem,
            "live": self.live(),
        }


def is_race_folder(path: Path) -> bool:
    return path.is_dir() and (path / HEADER).is_file()


def _is_lane_file(path: Path) -> bool:
    """A ``.jsonl`` whose first line is a loopterm event (a ``type`` and a ``schema``): a lane's trace."""
    if path.suffix != ".jsonl" or not path.is_file():
        return False
    try:
        with path.open("rb") as fh:
            first = fh.readline(TAIL_BYTES * 8)
        data = json.loads(first)
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and isinstance(data.get("type"), str) and "schema" in data


def is_trace_folder(path: Path) -> bool:
    """A race folder, or a damaged one: no readable header, but loopterm lane files.

    Only these are listed and ever deleted; an arbitrary folder (even one with
    some ``.jsonl`` files of another program) is neither.
    """
    if is_race_folder(path):
        return True
    if not path.is_dir():
        return False
    try:
        return any(_is_lane_file(p) for p in path.iterdir())
    except OSError:
        return False


def _folder_stats(folder: Path) -> tuple[int, float]:
    size, newest = 0, 0.0
    for path in folder.iterdir():
        try:
            st = path.stat()
        except OSError:
            continue  # vanished while we looked (a prune running elsewhere)
        if path.is_file():
            size += st.st_size
        newest = max(newest, st.st_mtime)
    return size, newest


def _last_line(path: Path) -> bytes | None:
    """The last complete line of a file, reading only as much of its end as needed."""
    try:
        with path.open("rb") as fh:
            end = fh.seek(0, 2)
            chunk = TAIL_BYTES
            while True:
                start = max(0, end - chunk)
                fh.seek(start)
                data = fh.read(end - start)
                if not data.endswith(b"\n"):
                    return None  # torn: the writer was cut off mid-line
                body = data[:-1]
                cut = body.rfind(b"\n")
                if cut >= 0 or start == 0:
                    return body[cut + 1 :]
                chunk *= 4  # the last line is longer than what we read: read more
    except OSError:
        return None


def _newer_schema(data: object) -> bool:
    return newer_schema(data.get("schema") if isinstance(data, dict) else None)


def _lane_tail(path: Path) -> tuple[str | None, bool]:
    """A lane file's outcome from its last line (None when unfinished) and whether that line is newer schema."""
    line = _last_line(path)
    if not line:
        return None, False
    try:
        data = json.loads(line)
    except ValueError:
        return None, False
    if _newer_schema(data):
        return None, True
    if isinstance(data, dict) and data.get("type") == "lane_done" and data.get("outcome") in OUTCOME_ORDER:
        return str(data["outcome"]), False
    return None, False


def read_info(folder: Path) -> TraceInfo:
    """What the listing shows for one race folder; never raises for a damaged trace."""
    size, modified = _folder_stats(folder)
    info = TraceInfo(
        race_id=folder.name, folder=folder, status="damaged", size=size, modified=modified, writer=writer_pid(folder)
    )
    try:
        header = json.loads((folder / HEADER).read_text(encoding="utf-8"))
        started = header["race_started"]
        lanes = started["lanes"]
        if not isinstance(lanes, list):
            raise TypeError("lanes is not a list")
    except FileNotFoundError:
        info.problem = f"no {HEADER} (lane files only); it cannot be replayed, `loopterm traces rm` deletes it"
        return info
    except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
        info.problem = f"unreadable {HEADER}: {exc}"
        return info
    version = started.get("schema")
    if _newer_schema(started):
        info.status = "newer schema"
        info.problem = f"schema {version!r}; this loopterm reads {SCHEMA_VERSION}"
    elif version != SCHEMA_VERSION:
        info.problem = f"{HEADER}: schema {version!r} is not one loopterm wrote (it writes {SCHEMA_VERSION})"
    else:
        status = header.get("status")
        info.status = status if status in ("complete", "aborted") else "incomplete"
        if info.live():
            info.status = "running"
    info.race_id = str(started.get("race_id") or folder.name)
    info.started_at = started.get("started_at")
    info.task_id = str(started.get("task_id", "?"))
    info.task_hash = str(started.get("task_hash", ""))
    info.kind = str(started.get("kind", "race"))
    info.rescore_of = started.get("rescore_of")
    info.bench_id = started.get("bench_id")
    counts: Counter[str] = Counter()
    newer = False
    for lane in lanes:
        if not isinstance(lane, dict):
            continue
        info.lanes.append(str(lane.get("name", lane.get("run_id", "?"))))
        outcome, lane_newer = _lane_tail(folder / f"{lane.get('run_id')}.jsonl")
        newer = newer or lane_newer
        counts[outcome or UNFINISHED] += 1
    info.outcomes = {name: counts[name] for name in [*OUTCOME_ORDER, UNFINISHED] if counts[name]}
    if newer and info.status != "newer schema":
        # The header is ours but its events are not: replay would refuse it, so say so here.
        info.status = "newer schema"
        info.problem = f"its events have a schema newer than {SCHEMA_VERSION}"
    return info


def list_races(root: Path) -> list[TraceInfo]:
    """Every trace folder under ``root`` (damaged ones too), newest first."""
    if not root.is_dir():
        return []
    infos = [read_info(p) for p in root.iterdir() if not p.is_symlink() and is_trace_folder(p)]
    infos.sort(key=lambda i: (i.started, i.race_id), reverse=True)
    return infos


def newest(root: Path) -> Path:
    races = [info for info in list_races(root) if is_race_folder(info.folder)]
    if not races:
        raise StoreError(f"no stored races in {root}; run `loopterm race` first (or pass --trace-dir)")
    return races[0].folder


def resolve(ref: str | None, root: Path) -> Path:
    """A race folder (or lane file) from an id, a unique id prefix or a path; newest when None.

    An exact folder name under ``root`` wins; then a path that exists (a race
    folder, a lane ``.jsonl`` or a ``race.json``, anywhere, e.g. copied from
    another machine); then a race whose recorded id is exactly ``ref``; then a
    unique prefix of a folder name or a recorded id (a folder copied under
    another name answers to both).
    """
    if ref is None:
        return newest(root)
    if not ref.strip():
        raise StoreError("empty race id; run `loopterm traces` to list stored races")
    exact = root / ref
    if "/" not in ref and ref not in (".", "..") and is_trace_folder(exact):
        return exact
    path = Path(ref).expanduser()
    if path.exists():
        if path.is_dir() and not is_trace_folder(path):
            raise StoreError(f"{path}: not a loopterm race folder (no {HEADER}); give a race folder or id")
        return path
    if "/" in ref or ref.endswith((".jsonl", ".json")):
        raise StoreError(f"{ref}: no such file or folder; run `loopterm traces` to list stored races")
    infos = sorted(list_races(root), key=lambda i: i.name)
    by_id = [i for i in infos if i.race_id == ref]
    if len(by_id) == 1:
        return by_id[0].folder
    matches = by_id or [i for i in infos if i.name.startswith(ref) or i.race_id.startswith(ref)]
    if len(matches) == 1:
        return matches[0].folder
    if not matches:
        raise StoreError(f"no race '{ref}' in {root}; run `loopterm traces` to list stored races")
    shown = ", ".join(i.name for i in matches[:CANDIDATES_SHOWN])
    more = f" and {len(matches) - CANDIDATES_SHOWN} more" if len(matches) > CANDIDATES_SHOWN else ""
    raise StoreError(f"'{ref}' matches {len(matches)} races: {shown}{more}; give more of the id")


def deletable(folder: Path, root: Path) -> Path:
    """``folder`` itself when it is a trace folder directly under ``root``; StoreError otherwise.

    A file is refused, not widened to its race: ``rm path/lane.jsonl`` deleting
    every lane of the race would surprise.
    """
    if folder.is_file():
        raise StoreError(
            f"{folder}: is one file of race {folder.parent.name}; `traces rm` deletes whole races: "
            f"give the race id or folder ({folder.parent})"
        )
    if folder.is_symlink():
        raise StoreError(f"{folder}: is a symbolic link; loopterm only deletes race folders it wrote")
    if not is_trace_folder(folder):
        raise StoreError(f"{folder}: not a loopterm race folder (no {HEADER}); nothing deleted")
    try:
        inside = folder.resolve().parent == root.resolve()
    except OSError:
        inside = False
    if not inside:
        raise StoreError(
            f"{folder}: not in the traces dir {root}; loopterm only deletes its own stored races "
            "(pass --trace-dir to name another traces dir)"
        )
    return folder


def live_error(folder: Path, pid: int | None) -> StoreError:
    who = f" by process {pid}" if pid else ""
    return StoreError(f"race {folder.name} is still being written{who}; stop that race first (nothing deleted)")


def remove(folder: Path, root: Path) -> None:
    """Delete one race folder, after checking it is one (see ``deletable``) and no writer holds it.

    The folder's lock is held while deleting, so a writer cannot be live between the check and the delete.
    """
    folder = deletable(folder, root)
    try:
        with FolderLock(folder):
            shutil.rmtree(folder)
    except BlockingIOError:
        raise live_error(folder, writer_pid(folder)) from None


def older_than(root: Path, days: float, now: datetime | None = None) -> list[TraceInfo]:
    """Races that started more than ``days`` days ago, oldest first; races still being written excluded."""
    now = now or datetime.now(UTC)
    cutoff = now.timestamp() - days * 86400
    races = [i for i in list_races(root) if i.started.timestamp() < cutoff and not i.live()]
    return sorted(races, key=lambda i: (i.started, i.race_id))


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def _outcome_word(name: str) -> str:
    """An outcome's word from ``loopterm.words`` ("turn limit"); "unfinished" stays as it is."""
    from loopterm.words import outcome_label

    return outcome_label(Outcome(name)) if name in Outcome.__members__ else name
