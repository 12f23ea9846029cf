"""Hand-built race events with known answers, for the benchmark statistics tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from loopterm.events import (
    Event,
    GenerationDone,
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
)

TOTAL = 40  # checks in the pretend suite


@dataclass
class Run:
    """One pretend lane run: its per-turn scores and how it ended."""

    run_id: str
    scores: Sequence[float]
    outcome: str | None = None  # default: PASS if the last score is 1.0, else TURN_LIMIT
    model_s: float = 1.0  # per turn
    validation_s: float = 0.25  # per turn
    start: float = 0.0  # lane start, race-relative
    tokens: tuple[int, int] = (1000, 500)  # per turn: prompt, completion
    cost: float | None = None  # per turn
    name: str = "Lane A"
    provider: str = "sim"
    model: str = "a"
    lane_class: str = "H/D"

    @property
    def ended(self) -> str:
        if self.outcome is not None:
            return self.outcome
        return "PASS" if self.scores and self.scores[-1] == 1.0 else "TURN_LIMIT"

    @property
    def turn_s(self) -> float:
        return self.model_s + self.validation_s

    def info(self, index: int = 0) -> LaneInfo:
        return LaneInfo(
            run_id=self.run_id, name=self.name, provider=self.provider, model=self.model,
            lane_class=self.lane_class, simulated=self.provider == "sim", run_index=index,
        )


def run_events(run: Run) -> list[Event]:
    """A run's events; turn n ends at start + n * turn_s (no harness time)."""
    lane, t = run.run_id, run.start
    events: list[Event] = [LaneStarted(t=t, lane=lane)]
    best = 0.0
    error = run.ended == "ERROR"
    for n, score in enumerate(run.scores, start=1):
        events.append(TurnStarted(t=t, lane=lane, turn=n))
        last = n == len(run.scores)
        events.append(
            GenerationDone(
                t=t + run.model_s, lane=lane, turn=n, text="", ttft_s=0.1, generation_s=run.model_s,
                usage=TokenUsage(prompt=run.tokens[0], completion=run.tokens[1]), cost=run.cost,
                error="provider said 500" if error and last else None,
            )
        )
        t += run.model_s if error and last else run.turn_s
        best = max(best, score)
        if error and last:
            status = TurnStatus.ERROR
        elif score == 1.0:
            status = TurnStatus.PASS
        elif last and run.ended == "THRASH":
            status = TurnStatus.THRASH
        else:
            status = TurnStatus.PARTIAL if score > 0 else TurnStatus.FAIL
        events.append(
            TurnDone(
                t=t, lane=lane, turn=n, status=status, score=score, passed=round(score * TOTAL),
                total=TOTAL, best_score=best, model_s=run.model_s,
                validation_s=0.0 if status is TurnStatus.ERROR else run.validation_s, harness_s=0.0,
            )
        )
    passed = run.ended == "PASS"
    events.append(
        LaneDone(
            t=t, lane=lane, outcome=Outcome(run.ended), reason="provider said 500" if error else "test",
            turns=len(run.scores),
            time_to_pass_s=t - run.start if passed else None, best_score=best,
            final_score=run.scores[-1] if run.scores else 0.0,
        )
    )
    return events


def race(runs: Sequence[Run], race_id: str = "20261122-000000-aaaa", *, kind: str = "bench",
         time_scale: float = 1.0, max_turns: int = 15) -> list[Event]:
    """A whole race holding these runs, events in time order like a trace read back."""
    started = RaceStarted(
        t=0.0, race_id=race_id, task_id="quote-approval", task_hash="h",
        lanes=[r.info(i) for i, r in enumerate(runs)], max_turns=max_turns, thrash_k=3,
        time_scale=time_scale, started_at="2026-11-22T00:00:00Z", loopterm_version="0.1.0",
        kind=kind, bench_id=race_id if kind == "bench" else None,
    )
    body = sorted((e for r in runs for e in run_events(r)), key=lambda e: e.t)
    end = max((e.t for e in body), default=0.0)
    return [started, *body, RaceDone(t=end)]
