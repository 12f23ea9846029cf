"""The trace writer: an event sink that appends and flushes as events happen.

A crash or kill loses at most the line being written. ``race.json`` is
replaced atomically (write to a temp file, then rename), so it is never torn.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO

from loopterm.events import Event, RaceDone, RaceStarted, dump_event

HEADER = "race.json"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class TraceWriter:
    """Call it with each event; it creates ``root/<race_id>/`` on race_started."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.folder: Path | None = None
        self._files: dict[str, IO[str]] = {}
        self._header: dict | None = None

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
        self._header = {
            "status": "running",
            "race_started": json.loads(dump_event(event)),
            "race_done": None,
        }
        _write_atomic(self.folder / HEADER, json.dumps(self._header, indent=2))
        for lane in event.lanes:
            # Created up front so a lane that never got to run still has its file.
            self._open(lane.run_id)

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
