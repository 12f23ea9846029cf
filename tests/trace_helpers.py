"""Hand-built races for the trace, replay, rescore and export tests.

``hand_race`` builds a plausible two-lane race (progress events, generations,
validations with real check lists, turn and lane ends); ``write_trace``
stores any event list with the real TraceWriter.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from loopterm.events import (
    CheckResult,
    Event,
    GenerationDone,
    GenerationProgress,
    LaneDone,
    LaneInfo,
    LaneStarted,
    Outcome,
    RaceDone,
    RaceStarted,
    TokenUsage,
    TurnDone,
    TurnStarted,
    TurnStatus,
    ValidationDone,
    ValidationResult,
)
from loopterm.traces.writer import TraceWriter

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
    return RaceStarted(
        t=0.0,
        race_id=race_id,
        task_id=task_id,
        task_hash="old-hash",
        lanes=[
            LaneInfo(run_id=name, name=name.title(), provider="sim", model=name, simulated=True) for name in lanes
        ],
        max_turns=max_turns,
        thrash_k=thrash_k,
        started_at=started_at,
        loopterm_version="0.1.0",
        kind=kind,  # type: ignore[arg-type]
    )


def result(passing: Sequence[str], total: int = len(CHECKS)) -> ValidationResult:
    checks = [
        CheckResult(id=cid, group=group, description=f"{cid} check", passed=cid in passing,
                    message="" if cid in passing else f"{cid}: expected x, got y", duration_ms=1.0)
        for cid, group in CHECKS[:total]
    ]
    passed = sum(c.passed for c in checks)
    status = "PASS" if passed == total else ("PARTIAL" if passed else "FAIL")
    return ValidationResult(task="mini", score=passed / total, passed=passed, total=total, status=status,
                            duration_ms=50.0, checks=checks)


def lane_turns(
    lane: str, t0: float, turns: Sequence[Sequence[str]], *, turn_s: float = 1.0, outcome: Outcome | None = None,
    codes: Sequence[str | None] | None = None,
) -> list[Event]:
    """One lane: each turn's passing check ids in order; a PASS turn ends it."""
    events: list[Event] = [LaneStarted(t=t0, lane=lane)]
    t = t0
    best = 0.0
    previous: set[str] | None = None
    for n, passing in enumerate(turns, start=1):
        events.append(TurnStarted(t=t + 0.01, lane=lane, turn=n))
        for k in range(4):  # streaming progress, a few per turn
            events.append(GenerationProgress(t=t + 0.1 + 0.1 * k, lane=lane, turn=n, chars=100 * (k + 1),
                                             tokens=25 * (k + 1), first_token=k == 0))
        code = codes[n - 1] if codes is not None else f"# {lane} turn {n}\napp = None\n"
        text = f"```python\n{code}```" if code is not None else "no code, sorry"
        events.append(GenerationDone(t=t + 0.6 * turn_s, lane=lane, turn=n, text=text, ttft_s=0.1,
                                     generation_s=0.55 * turn_s, usage=TokenUsage(prompt=500, completion=100)))
        res = result(passing)
        failing = {cid for cid, _ in CHECKS} - set(passing)
        events.append(ValidationDone(t=t + 0.9 * turn_s, lane=lane, turn=n, code=code, result=res,
                                     feedback=f"{res.passed}/{res.total}"))
        best = max(best, res.score)
        status = {"PASS": TurnStatus.PASS, "PARTIAL": TurnStatus.PARTIAL, "FAIL": TurnStatus.FAIL}[res.status]
        events.append(TurnDone(
            t=t + 0.92 * turn_s, lane=lane, turn=n, status=status, score=res.score, passed=res.passed,
            total=res.total, best_score=best,
            fixed=sorted(previous - failing) if previous is not None else [],
            broke=sorted(failing - previous) if previous is not None else [],
            model_s=0.6 * turn_s, validation_s=0.3 * turn_s, harness_s=0.02,
        ))
        previous = failing
        t += turn_s
        if status is TurnStatus.PASS:
            break
    last = events[-1]
    assert isinstance(last, TurnDone)
    final = outcome or (Outcome.PASS if last.status is TurnStatus.PASS else Outcome.TURN_LIMIT)
    events.append(LaneDone(
        t=last.t + 0.001, lane=lane, outcome=final, reason=f"{final.value.lower()} on turn {last.turn}",
        turns=last.turn, time_to_pass_s=(last.t - 0.02 - t0) if final is Outcome.PASS else None,
        best_score=best, final_score=last.score, place=1 if final is Outcome.PASS else None,
    ))
    return events


def hand_race(race_id: str = "20261122-101500-abcd", **kw: object) -> list[Event]:
    """Fast passes on turn 2; slow keeps failing one check until the turn limit of 4."""
    head = started(race_id, max_turns=4, **kw)  # type: ignore[arg-type]
    fast = lane_turns("fast", 0.01, [["hello"], ["hello", "echo", "missing"]], turn_s=0.8)
    slow = lane_turns("slow", 0.02, [["hello"], ["hello", "echo"], ["hello"], ["hello", "echo"]], turn_s=1.3)
    body = sorted(fast + slow, key=lambda e: e.t)
    return [head, *body, RaceDone(t=body[-1].t + 0.01)]


def write_trace(root: Path, events: Sequence[Event]) -> Path:
    writer = TraceWriter(root)
    for event in events:
        writer(event)
    writer.close()
    assert writer.folder is not None
    return writer.folder
