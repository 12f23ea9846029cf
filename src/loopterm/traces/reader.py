"""Read a race folder back into the one event stream.

Damage is expected (a killed race, a copied folder, a full disk): a torn last
line is skipped, a damaged line in the middle is skipped, and each is named in
``warnings``. A race that ended without ``race_done`` (killed or crashed) is
closed with synthetic ``LaneDone(ABORTED)`` and ``RaceDone(aborted=True)``
events, also named in ``warnings``. A trace from a newer schema is refused:
misreading it would be worse.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import ValidationError

from loopterm.events import (
    Event,
    LaneDone,
    Outcome,
    RaceDone,
    RaceStarted,
    SchemaError,
    TurnDone,
    load_event,
)
from loopterm.traces.writer import HEADER


class TraceError(ValueError):
    """A trace that cannot be read at all; the message says why and what to do."""


@dataclass
class RaceTrace:
    folder: Path
    started: RaceStarted
    events: list[Event]
    status: Literal["complete", "aborted"]
    warnings: list[str] = field(default_factory=list)

    @property
    def race_id(self) -> str:
        return self.started.race_id

    def lane_events(self, run_id: str) -> list[Event]:
        return [e for e in self.events if getattr(e, "lane", None) == run_id]


def _read_header(folder: Path) -> dict:
    path = folder / HEADER
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TraceError(f"{folder}: no {HEADER}; this is not a loopterm race folder") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TraceError(f"{path}: damaged header ({exc}); the race cannot be replayed") from None
    if not isinstance(data, dict) or "race_started" not in data:
        raise TraceError(f"{path}: not a loopterm race header")
    return data


def _parse(raw: object, where: str) -> Event:
    try:
        return load_event(json.dumps(raw) if not isinstance(raw, str | bytes) else raw)
    except SchemaError as exc:
        raise TraceError(f"{where}: {exc}") from None


def _read_lane_file(path: Path, warnings: list[str]) -> list[Event]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        warnings.append(f"{path.name}: unreadable ({exc.strerror}); lane skipped")
        return []
    lines = data.split(b"\n")
    torn_tail = bool(lines) and lines[-1] != b""  # no final newline: cut mid-write
    events: list[Event] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        last = number == len(lines)
        try:
            events.append(_parse(line, f"{path.name}:{number}"))
        except TraceError:
            raise
        except (ValueError, ValidationError):
            if last and torn_tail:
                warnings.append(f"{path.name}: skipped a torn last line (the race stopped mid-write)")
            else:
                warnings.append(f"{path.name}:{number}: damaged line skipped")
    return events


def read_race(path: str | Path) -> RaceTrace:
    """Read a race folder (or one lane's ``.jsonl`` inside it, for that lane alone)."""
    path = Path(path)
    only: str | None = None
    if path.is_file():
        if path.suffix != ".jsonl" and path.name != HEADER:
            raise TraceError(f"{path}: not a trace file; give a race folder or a lane .jsonl file")
        only = path.stem if path.suffix == ".jsonl" else None
        path = path.parent
    if not path.is_dir():
        raise TraceError(f"{path}: no such trace; run `loopterm traces` to list stored races")
    header = _read_header(path)
    started = _parse(header["race_started"], f"{path / HEADER}")
    if not isinstance(started, RaceStarted):
        raise TraceError(f"{path / HEADER}: header does not start with race_started")

    warnings: list[str] = []
    lane_ids = [lane.run_id for lane in started.lanes]
    if only is not None:
        if only not in lane_ids:
            raise TraceError(f"{path}: lane {only!r} is not in this race")
        started = started.model_copy(
            update={"lanes": [lane for lane in started.lanes if lane.run_id == only]}
        )
        lane_ids = [only]
    events: list[Event] = [started]
    for run_id in lane_ids:
        file = path / f"{run_id}.jsonl"
        if not file.exists():
            warnings.append(f"{file.name}: missing; that lane has no events")
            continue
        events.extend(_read_lane_file(file, warnings))
    # Stable sort: within a lane, file order; across lanes, time order.
    events[1:] = sorted(events[1:], key=lambda e: e.t)

    done_lanes = {e.lane for e in events if isinstance(e, LaneDone)}
    end_t = max((e.t for e in events), default=0.0)
    race_done = header.get("race_done")
    status: Literal["complete", "aborted"] = (
        "complete" if header.get("status") == "complete" else "aborted"
    )
    for run_id in lane_ids:
        if run_id not in done_lanes:
            warnings.append(f"{run_id}: no lane_done; closed as aborted at {end_t:.1f} s")
            events.append(_closing(run_id, events, end_t))
            status = "aborted"
    if race_done is not None:
        done = _parse(race_done, f"{path / HEADER}")
        events.append(done if isinstance(done, RaceDone) else RaceDone(t=end_t, aborted=True))
    else:
        warnings.append("the race has no end record (killed or crashed); replayed as aborted")
        events.append(RaceDone(t=end_t, aborted=True))
        status = "aborted"
    return RaceTrace(path, started, events, status, warnings)


def _closing(run_id: str, events: list[Event], t: float) -> LaneDone:
    turns = max((getattr(e, "turn", 0) for e in events if getattr(e, "lane", None) == run_id), default=0)
    scores = [e.score for e in events if isinstance(e, TurnDone) and e.lane == run_id]
    best = max(scores, default=0.0)
    return LaneDone(
        t=t,
        lane=run_id,
        outcome=Outcome.ABORTED,
        reason="the trace ends here: the race was interrupted",
        turns=turns,
        time_to_pass_s=None,
        best_score=best,
        final_score=scores[-1] if scores else 0.0,
    )
