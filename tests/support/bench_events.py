"""Hand-built race events with known answers, for the benchmark statistics tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from loopterm.events import Event, LaneInfo, Outcome, RaceDone, TokenUsage, TurnStatus, ValidationResult
from support.event_builders import LaneEvents, in_time_order, lane_info, race_started

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
    no_code: frozenset[int] = frozenset()  # turns whose answer had no code (given: every turn gets a ValidationDone)

    @property
    def ended(self) -> str:
        if self.outcome is not None:
            return self.outcome
        return "PASS" if self.scores and self.scores[-1] == 1.0 else "TURN_LIMIT"

    @property
    def turn_s(self) -> float:
        return self.model_s + self.validation_s

    def info(self, index: int = 0) -> LaneInfo:
        return lane_info(
            self.run_id,
            self.name,
            self.model,
            self.lane_class,
            simulated=self.provider == "sim",
            provider=self.provider,
            run_index=index,
        )


# A small bench of two lanes: A passes both its runs (in 2 and 3 turns), B thrashes in one
# and ends in ERROR in the other (the bench summary screen's tests).
BENCH_RUNS = [
    Run("a-r01", [0.5, 1.0]),
    Run("a-r02", [0.5, 0.75, 1.0]),
    Run("b-r01", [0.25, 0.5], name="B", model="b", outcome="THRASH"),
    Run("b-r02", [0.0], name="B", model="b", outcome="ERROR"),
]


def run_events(run: Run) -> list[Event]:
    """A run's events; turn n ends at start + n * turn_s (no harness time)."""
    t = run.start
    track = LaneEvents(run.run_id, t)
    error = run.ended == "ERROR"
    for n, score in enumerate(run.scores, start=1):
        track.turn_started(t, n)
        last = n == len(run.scores)
        track.generation(
            t + run.model_s,
            n,
            text="",
            ttft_s=0.1,
            generation_s=run.model_s,
            usage=TokenUsage(prompt=run.tokens[0], completion=run.tokens[1]),
            cost=run.cost,
            error="provider said 500" if error and last else None,
        )
        t += run.model_s if error and last else run.turn_s
        if run.no_code and not (error and last):
            passed = round(score * TOTAL)
            result = ValidationResult(
                task="quote-approval",
                score=score,
                passed=passed,
                total=TOTAL,
                status="PASS" if passed == TOTAL else ("PARTIAL" if passed else "FAIL"),
                duration_ms=run.validation_s * 1000,
                checks=[],
            )
            track.validation(t, n, None if n in run.no_code else "code", result, "feedback")
        if error and last:
            status = TurnStatus.ERROR
        elif score == 1.0:
            status = TurnStatus.PASS
        elif last and run.ended == "THRASH":
            status = TurnStatus.THRASH
        else:
            status = TurnStatus.PARTIAL if score > 0 else TurnStatus.FAIL
        track.turn_done(
            t,
            n,
            status,
            score,
            round(score * TOTAL),
            TOTAL,
            model_s=run.model_s,
            validation_s=0.0 if status is TurnStatus.ERROR else run.validation_s,
            harness_s=0.0,
        )
    passed = run.ended == "PASS"
    return track.lane_done(
        t,
        Outcome(run.ended),
        reason="provider said 500" if error else "test",
        turns=len(run.scores),
        time_to_pass_s=t - run.start if passed else None,
        final_score=run.scores[-1] if run.scores else 0.0,
    )


def race(
    runs: Sequence[Run],
    race_id: str = "20261122-000000-aaaa",
    *,
    kind: str = "bench",
    time_scale: float = 1.0,
    max_turns: int = 15,
) -> list[Event]:
    """A whole race holding these runs, events in time order like a trace read back."""
    started = race_started(
        [r.info(i) for i, r in enumerate(runs)],
        race_id=race_id,
        max_turns=max_turns,
        time_scale=time_scale,
        kind=kind,
        bench_id=race_id if kind == "bench" else None,
    )
    body = in_time_order(run_events(r) for r in runs)
    end = max((e.t for e in body), default=0.0)
    return [started, *body, RaceDone(t=end)]
