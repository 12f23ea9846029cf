"""Builders of loopterm events shared by the test helpers.

Lane infos, a race's start, a validation result from its checks, one lane's
turns built event by event (the best score and the last turn's failing checks
carried along) and lanes merged in time order. ``trace_helpers``,
``tui_script`` and ``bench_events`` build their own races on these.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Any

from loopterm.events import (
    CheckResult,
    Event,
    GenerationDone,
    GenerationProgress,
    LaneDone,
    LaneInfo,
    LaneStarted,
    Outcome,
    RaceStarted,
    TurnDone,
    TurnStarted,
    TurnStatus,
    ValidationDone,
    ValidationResult,
)


def lane_info(
    run_id: str,
    name: str,
    model: str,
    lane_class: str = "",
    simulated: bool = True,
    *,
    provider: str | None = None,
    run_index: int = 0,
) -> LaneInfo:
    """A lane's info; the provider is "sim" for a simulated lane, else "openai", unless named."""
    if provider is None:
        provider = "sim" if simulated else "openai"
    return LaneInfo(
        run_id=run_id,
        name=name,
        provider=provider,
        model=model,
        lane_class=lane_class,
        simulated=simulated,
        run_index=run_index,
    )


def race_started(
    lanes: Iterable[LaneInfo],
    *,
    race_id: str,
    task_id: str = "quote-approval",
    task_hash: str = "h",
    max_turns: int = 15,
    thrash_k: int = 3,
    started_at: str = "2026-11-22T00:00:00Z",
    loopterm_version: str = "0.1.0",
    **more: Any,
) -> RaceStarted:
    """A race's first event, at t=0; ``more`` are the other RaceStarted fields (time_scale, seed, kind...)."""
    return RaceStarted(
        t=0.0,
        race_id=race_id,
        task_id=task_id,
        task_hash=task_hash,
        lanes=list(lanes),
        max_turns=max_turns,
        thrash_k=thrash_k,
        started_at=started_at,
        loopterm_version=loopterm_version,
        **more,
    )


def validation_result(task: str, checks: Sequence[CheckResult], duration_ms: float) -> ValidationResult:
    """The result of these checks: score, counts and status follow from which passed."""
    passed = sum(c.passed for c in checks)
    total = len(checks)
    status = "PASS" if passed == total else ("PARTIAL" if passed else "FAIL")
    return ValidationResult(
        task=task,
        score=passed / total,
        passed=passed,
        total=total,
        status=status,
        duration_ms=duration_ms,
        checks=list(checks),
    )


class LaneEvents:
    """One lane's events, appended in order from its LaneStarted to its LaneDone.

    ``turn_done`` keeps the best score so far, and, given the turn's failing
    check ids, says which checks the turn fixed and broke against the last
    turn that gave them.
    """

    def __init__(self, lane: str, t: float) -> None:
        self.lane = lane
        self.events: list[Event] = [LaneStarted(t=t, lane=lane)]
        self.best = 0.0
        self.failing: set[str] | None = None

    def turn_started(self, t: float, turn: int) -> None:
        self.events.append(TurnStarted(t=t, lane=self.lane, turn=turn))

    def progress(self, t: float, turn: int, chars: int, tokens: int, first_token: bool = False) -> None:
        self.events.append(
            GenerationProgress(t=t, lane=self.lane, turn=turn, chars=chars, tokens=tokens, first_token=first_token)
        )

    def generation(
        self, t: float, turn: int, text: str, ttft_s: float | None, generation_s: float, **more: Any
    ) -> None:
        self.events.append(
            GenerationDone(t=t, lane=self.lane, turn=turn, text=text, ttft_s=ttft_s, generation_s=generation_s, **more)
        )

    def validation(self, t: float, turn: int, code: str | None, result: ValidationResult, feedback: str) -> None:
        self.events.append(ValidationDone(t=t, lane=self.lane, turn=turn, code=code, result=result, feedback=feedback))

    def turn_done(
        self,
        t: float,
        turn: int,
        status: TurnStatus,
        score: float,
        passed: int,
        total: int,
        *,
        failing: Collection[str] | None = None,
        model_s: float,
        validation_s: float,
        harness_s: float,
    ) -> TurnDone:
        self.best = max(self.best, score)
        fixed: list[str] = []
        broke: list[str] = []
        if failing is not None:
            now = set(failing)
            if self.failing is not None:
                fixed, broke = sorted(self.failing - now), sorted(now - self.failing)
            self.failing = now
        done = TurnDone(
            t=t,
            lane=self.lane,
            turn=turn,
            status=status,
            score=score,
            passed=passed,
            total=total,
            best_score=self.best,
            fixed=fixed,
            broke=broke,
            model_s=model_s,
            validation_s=validation_s,
            harness_s=harness_s,
        )
        self.events.append(done)
        return done

    def lane_done(
        self,
        t: float,
        outcome: Outcome,
        reason: str,
        turns: int,
        time_to_pass_s: float | None,
        final_score: float,
        place: int | None = None,
    ) -> list[Event]:
        """Ends the lane; returns all its events."""
        self.events.append(
            LaneDone(
                t=t,
                lane=self.lane,
                outcome=outcome,
                reason=reason,
                turns=turns,
                time_to_pass_s=time_to_pass_s,
                best_score=self.best,
                final_score=final_score,
                place=place,
            )
        )
        return self.events


def in_time_order(lanes: Iterable[Sequence[Event]]) -> list[Event]:
    """The lanes' events merged by time; ties keep lane order, then each lane's own order."""
    return sorted((event for events in lanes for event in events), key=lambda event: event.t)
