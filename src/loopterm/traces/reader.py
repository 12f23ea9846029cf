"""Read a race folder back into the one event stream.

Damage is expected (a killed race, a copied folder, a full disk): a torn last
line is skipped, a damaged line in the middle is skipped (so is a line that is
valid JSON but no event of ours: ``42``, ``{"hello": 1}``, an older schema),
and each is named in ``warnings`` with its file and line. A lane without
``lane_done`` is closed with a synthetic one: PASS when its last recorded turn
passed (only the closing line was lost; place unknown), ABORTED otherwise. A
race without ``race_done`` (killed, crashed, or still being written: its
writer's lock says which) gets a synthetic ``RaceDone``; its ``aborted`` flag
is always the status worked out here, so the results title matches the lanes.
Only a line from a newer schema makes a trace unreadable: misreading it would
be worse. A lane written before ``TurnDone.no_code`` is read as the judge
scores it now (``traces/upgrade.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from loopterm.events import (
    Event,
    LaneDone,
    LaneStarted,
    NewerSchemaError,
    Outcome,
    RaceDone,
    RaceStarted,
    SchemaError,
    TurnDone,
    TurnStatus,
    ValidationDone,
    load_event,
)
from loopterm.traces.upgrade import upgrade_lane
from loopterm.traces.writer import HEADER, writer_pid
from loopterm.words import plural


class TraceError(ValueError):
    """A trace that cannot be read at all; the message says why and what to do."""


@dataclass
class RaceTrace:
    folder: Path
    started: RaceStarted
    events: list[Event]
    status: Literal["complete", "aborted"]
    warnings: list[str] = field(default_factory=list)
    live: bool = False  # a live process was still writing it when it was read
    running: frozenset[str] = frozenset()  # runs still going when it was read (closed here only to replay)
    so_far: list[Event] | None = None  # see events_so_far

    @property
    def race_id(self) -> str:
        return self.started.race_id

    @property
    def events_so_far(self) -> list[Event]:
        """The events as written: a run still going has no end, and a race still going none either.

        ``events`` closes them (ABORTED at the last event, then a RaceDone) so
        a replay ends; a report reads these instead, and counts such runs as
        running, not as aborted. The same as ``events`` for a race that ended.
        """
        return self.events if self.so_far is None else self.so_far

    def lane_events(self, run_id: str) -> list[Event]:
        return [e for e in self.events if getattr(e, "lane", None) == run_id]


def _read_header(folder: Path) -> dict[str, Any]:
    path = folder / HEADER
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        from loopterm.traces.store import is_trace_folder

        if is_trace_folder(folder):
            raise TraceError(
                f"{folder}: its {HEADER} is missing, so the race's lanes and rules are unknown and it cannot "
                f"be replayed (its lane files are kept); `loopterm traces rm {folder.name}` deletes it"
            ) from None
        raise TraceError(f"{folder}: no {HEADER}; this is not a loopterm race folder") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TraceError(f"{path}: damaged header ({exc}); the race cannot be replayed") from None
    if not isinstance(data, dict) or "race_started" not in data:
        raise TraceError(f"{path}: not a loopterm race header")
    return data


def _parse_header_event(raw: object, where: str) -> Event:
    """An event kept in ``race.json``; any problem with it is a TraceError (the header is the race)."""
    try:
        return load_event(json.dumps(raw))
    except NewerSchemaError as exc:
        raise TraceError(f"{where}: {exc}") from None
    except (ValueError, ValidationError) as exc:
        first = str(exc).splitlines()[0]
        raise TraceError(f"{where}: damaged header ({first}); the race cannot be replayed") from None


def _read_lane_file(path: Path, warnings: list[str], *, ended: bool, live: bool = False) -> list[Event]:
    """``ended``: the race has an end record, so a torn last line was cut after the race (a copy, a full disk).

    ``live``: the race is still being written, so a torn last line is most likely the one being written now.
    """
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
        where = f"{path.name}:{number}"
        try:
            events.append(load_event(line))
        except NewerSchemaError as exc:
            raise TraceError(f"{where}: {exc}") from None
        except SchemaError as exc:
            warnings.append(f"{where}: {exc}; line skipped as damaged")
        except (ValueError, ValidationError):
            if last and torn_tail:
                why = (
                    "the file was cut short after the race"
                    if ended
                    else "it is being written"
                    if live
                    else "the race stopped mid-write"
                )
                warnings.append(f"{path.name}: skipped a torn last line ({why})")
            else:
                warnings.append(f"{where}: damaged line skipped")
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
    started = _parse_header_event(header["race_started"], f"{path / HEADER}")
    if not isinstance(started, RaceStarted):
        raise TraceError(f"{path / HEADER}: header does not start with race_started")
    race_done = header.get("race_done")
    live = race_done is None and writer_pid(path) is not None

    warnings: list[str] = []
    lane_ids = [lane.run_id for lane in started.lanes]
    if only is not None:
        if only not in lane_ids:
            raise TraceError(f"{path}: lane {only!r} is not in this race")
        started = started.model_copy(update={"lanes": [lane for lane in started.lanes if lane.run_id == only]})
        lane_ids = [only]
    events: list[Event] = [started]
    for run_id in lane_ids:
        file = path / f"{run_id}.jsonl"
        if not file.exists():
            warnings.append(f"{file.name}: missing; that lane has no events")
            continue
        lane = _read_lane_file(file, warnings, ended=race_done is not None, live=live)
        events.extend(upgrade_lane(lane, started))  # an older trace's no-code turns, read as judged now
    # Stable sort: within a lane, file order; across lanes, time order.
    events[1:] = sorted(events[1:], key=lambda e: e.t)

    done_lanes = {e.lane for e in events if isinstance(e, LaneDone)}
    end_t = max((e.t for e in events), default=0.0)
    status: Literal["complete", "aborted"] = "complete" if header.get("status") == "complete" else "aborted"
    running: set[str] = set()
    for run_id in lane_ids:
        if run_id not in done_lanes:
            closing = _closing(run_id, started, events, end_t, live=live)
            events.append(closing)
            if closing.outcome is Outcome.ABORTED:
                status = "aborted"
                if live:
                    running.add(run_id)  # said once for all of them, below
                else:
                    warnings.append(f"{run_id}: no lane_done; closed as aborted at {end_t:.1f} s")
            elif not live:  # live, its lane_done is about to be written
                warnings.append(f"{run_id}: its lane_done line is lost; its last turn passed, so it shows as PASS")
    # A lane closed as PASS closes at its passing turn, before later events of other lanes.
    events[1:] = sorted(events[1:], key=lambda e: e.t)
    done: Event | None = None
    if race_done is not None:
        try:
            done = _parse_header_event(race_done, f"{path / HEADER}")
        except TraceError as exc:
            warnings.append(f"{exc}: the race's end record is damaged")
    if done is None:
        if live:
            going = f" ({plural(len(running), 'run')} still running)" if running else ""
            warnings.append(
                f"the race is still being written{going}; this is what is recorded so far, up to {end_t:.1f} s"
            )
        elif race_done is None:
            warnings.append("the race has no end record (killed or crashed); read as aborted")
        status = "aborted"
    end = max(end_t, done.t) if isinstance(done, RaceDone) else end_t
    # From the status worked out above, not the header alone: a lane closed here as
    # ABORTED makes the race aborted, whatever race.json said.
    so_far = [e for e in events if not (isinstance(e, LaneDone) and e.lane in running)] if live else None
    events.append(RaceDone(t=end, aborted=status == "aborted"))
    if so_far is not None and done is not None:
        so_far.append(events[-1])  # its end was written: the race is over, only its lock not yet let go
    return RaceTrace(path, started, events, status, warnings, live=live, running=frozenset(running), so_far=so_far)


def _closing(run_id: str, started: RaceStarted, events: list[Event], t: float, *, live: bool = False) -> LaneDone:
    """The lane_done a lane's trace lacks: what its recorded turns say, ABORTED unless its last turn passed."""
    mine = [e for e in events if getattr(e, "lane", None) == run_id]
    turns = max((getattr(e, "turn", 0) for e in mine), default=0)
    done = [e for e in mine if isinstance(e, TurnDone)]
    scores = [e.score for e in done]
    best = max(scores, default=0.0)
    final = scores[-1] if scores else 0.0
    last = done[-1] if done else None
    if last is not None and last.status is TurnStatus.PASS and last.turn == turns:
        # The engine times a pass at that turn's validation, from the race start
        # (a race) or the lane's own start (a bench run); as it does live.
        passed_at = next((e.t for e in mine if isinstance(e, ValidationDone) and e.turn == last.turn), last.t)
        lane_start = next((e.t for e in mine if isinstance(e, LaneStarted)), started.t)
        origin = started.t if started.timed_from_race_start else lane_start
        return LaneDone(
            t=last.t,
            lane=run_id,
            outcome=Outcome.PASS,
            reason=f"passed {last.passed}/{last.total} on turn {last.turn}",
            turns=last.turn,
            time_to_pass_s=passed_at - origin,
            best_score=best,
            final_score=final,
            place=None,
        )
    return LaneDone(
        t=t,
        lane=run_id,
        outcome=Outcome.ABORTED,
        reason=(
            "still running: the trace was read while being written"
            if live
            else "the trace ends here: the race was interrupted"
        ),
        turns=turns,
        time_to_pass_s=None,
        best_score=best,
        final_score=final,
    )
