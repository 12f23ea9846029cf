"""The trace writer: an event sink that appends and flushes as events happen.

A crash or kill loses at most the line being written. ``race.json`` is
replaced atomically (write to a temp file, then rename), so it is never torn.

While a race is being written its writer holds an exclusive ``flock`` on
``race.lock`` in the race folder (the file holds the writer's pid, for
people). The OS drops the lock when the process dies, even on ``kill -9``, so
"is this race still being written?" is exact: the lock is held. A writer that
finishes removes the file; a killed one leaves it behind, unlocked.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from pathlib import Path
from typing import IO

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
        self._header: dict | None = None
        self._lock: int | None = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, RaceStarted):
            self._start(event)
        elif isinstance(event, RaceDone):
            self._finish(event)
        else:
            self._append(event.lane, dump_event(event))

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
