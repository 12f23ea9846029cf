"""Hand-built races for the trace, replay, rescore and export tests.

``hand_race`` builds a plausible two-lane race (progress events, generations,
validations with real check lists, turn and lane ends); ``write_trace``
stores any event list with the real TraceWriter.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from loopterm.events import CheckResult, Event, Outcome, RaceDone, RaceStarted, TokenUsage, TurnStatus, ValidationResult
from loopterm.traces.writer import TraceWriter
from support.event_builders import LaneEvents, in_time_order, lane_info, race_started, validation_result

CHECKS = [("hello", "logic"), ("echo", "shape"), ("missing", "robustness")]


def started(
    race_id: str = "20261122-101500-abcd",
    lanes: Sequence[str] = ("fast", "slow"),
    *,
    task_id: str = "mini",
    started_at: str = "2025-11-22T10:15:00Z",
    kind: str = "race",
    max_turns: int = 15,
    thrash_k: int = 3,
) -> RaceStarted:
    return race_started(
        [lane_info(name, name.title(), name) for name in lanes],
        race_id=race_id,
        task_id=task_id,
        task_hash="old-hash",
        max_turns=max_turns,
        thrash_k=thrash_k,
        started_at=started_at,
        kind=kind,
    )


def result(passing: Sequence[str], total: int = len(CHECKS)) -> ValidationResult:
    checks = [
        CheckResult(
            id=cid,
            group=group,
            description=f"{cid} check",
            passed=cid in passing,
            message="" if cid in passing else f"{cid}: expected x, got y",
            duration_ms=1.0,
        )
        for cid, group in CHECKS[:total]
    ]
    return validation_result("mini", checks, duration_ms=50.0)


def lane_turns(
    lane: str,
    t0: float,
    turns: Sequence[Sequence[str]],
    *,
    turn_s: float = 1.0,
    outcome: Outcome | None = None,
    codes: Sequence[str | None] | None = None,
) -> list[Event]:
    """One lane: each turn's passing check ids in order; a PASS turn ends it."""
    track = LaneEvents(lane, t0)
    t = t0
    for n, passing in enumerate(turns, start=1):
        track.turn_started(t + 0.01, n)
        for k in range(4):  # streaming progress, a few per turn
            track.progress(t + 0.1 + 0.1 * k, n, chars=100 * (k + 1), tokens=25 * (k + 1), first_token=k == 0)
        code = codes[n - 1] if codes is not None else f"# {lane} turn {n}\napp = None\n"
        text = f"```python\n{code}```" if code is not None else "no code, sorry"
        track.generation(
            t + 0.6 * turn_s,
            n,
            text=text,
            ttft_s=0.1,
            generation_s=0.55 * turn_s,
            usage=TokenUsage(prompt=500, completion=100),
        )
        res = result(passing)
        track.validation(t + 0.9 * turn_s, n, code=code, result=res, feedback=f"{res.passed}/{res.total}")
        status = {"PASS": TurnStatus.PASS, "PARTIAL": TurnStatus.PARTIAL, "FAIL": TurnStatus.FAIL}[res.status]
        last = track.turn_done(
            t + 0.92 * turn_s,
            n,
            status,
            res.score,
            res.passed,
            res.total,
            failing={cid for cid, _ in CHECKS} - set(passing),
            model_s=0.6 * turn_s,
            validation_s=0.3 * turn_s,
            harness_s=0.02,
        )
        t += turn_s
        if status is TurnStatus.PASS:
            break
    final = outcome or (Outcome.PASS if last.status is TurnStatus.PASS else Outcome.TURN_LIMIT)
    return track.lane_done(
        last.t + 0.001,
        final,
        reason=f"{final.value.lower()} on turn {last.turn}",
        turns=last.turn,
        time_to_pass_s=(last.t - 0.02 - t0) if final is Outcome.PASS else None,
        final_score=last.score,
        place=1 if final is Outcome.PASS else None,
    )


def hand_race(race_id: str = "20261122-101500-abcd", **kw: object) -> list[Event]:
    """Fast passes on turn 2; slow keeps failing one check until the turn limit of 4."""
    head = started(race_id, max_turns=4, **kw)  # type: ignore[arg-type]
    fast = lane_turns("fast", 0.01, [["hello"], ["hello", "echo", "missing"]], turn_s=0.8)
    slow = lane_turns("slow", 0.02, [["hello"], ["hello", "echo"], ["hello"], ["hello", "echo"]], turn_s=1.3)
    body = in_time_order([fast, slow])
    return [head, *body, RaceDone(t=body[-1].t + 0.01)]


def write_trace(root: Path, events: Sequence[Event]) -> Path:
    writer = TraceWriter(root)
    for event in events:
        writer(event)
    writer.close()
    assert writer.folder is not None
    return writer.folder
