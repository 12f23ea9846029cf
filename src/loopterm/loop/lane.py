"""The loop of one lane: generate, extract, validate, classify, decide.

Turn 1 sends the task's first prompt (goal, contract, rules, output format).
Every later turn is a fresh single message (a "Ralph loop": no chat history)
re-sending the goal and contract, the current implementation and the
validator's feedback on it. Every step is emitted as an event.

Bounded (``loopterm.bounds``): an answer past ``ANSWER_MAX_BYTES`` or code
past ``CODE_MAX_BYTES`` is a FAIL turn that validates nothing (the answer is
recorded cut to the cap, never re-sent: the next prompt carries the last
accepted code), and every validation result is clamped (``clamp_result``)
before anything keeps it, so the feedback, the prompt and the trace stay small
whatever the model or the candidate produced.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from loopterm.bounds import CODE_MAX_BYTES, bound_answer, clamp_result, code_refusal, fmt_size
from loopterm.events import (
    Event,
    GenerationDone,
    GenerationProgress,
    LaneDone,
    LaneStarted,
    Outcome,
    TurnDone,
    TurnStarted,
    TurnStatus,
    ValidationDone,
    ValidationResult,
)
from loopterm.feedback import format_feedback, no_code_feedback
from loopterm.lanes import Lane
from loopterm.loop.extract import extract_code
from loopterm.loop.status import ThrashTracker, classify
from loopterm.providers.base import ChatMessage, Provider
from loopterm.tasks import Task

# Live panes repaint at ~10 Hz, so progress events faster than this are noise.
PROGRESS_INTERVAL_S = 0.1

Emit = Callable[[Event], None]


class Validator(Protocol):
    async def validate(self, source: str) -> ValidationResult: ...


@dataclass(frozen=True)
class LoopSettings:
    max_turns: int = 15
    thrash_k: int = 3
    budget_s: float | None = None


def no_code_turn_feedback(standing: str | None) -> str:
    """The feedback after an answer with no code.

    The next prompt re-sends the current implementation (the last code), so it
    also re-sends the validator's feedback on that code (``standing``): with
    only "send code" the model would see its file but not what fails in it.
    """
    if standing is None:
        return no_code_feedback()
    return (
        f"{no_code_feedback()}\n\nYour current implementation (above) is unchanged, and the "
        f"validator's feedback on it still stands:\n\n{standing}"
    )


def no_code_result(task: Task) -> ValidationResult:
    """A turn whose answer had no code: every check counts as failed."""
    return refused_result(task, "the answer contained no Python code block")


def refused_result(task: Task, reason: str) -> ValidationResult:
    """A turn whose answer was not validated (no code, or too long): every check counts as failed."""
    total = len(task.suite.checks)
    return ValidationResult(
        task=task.id,
        score=0.0,
        passed=0,
        total=total,
        status="FAIL",
        error=reason,
        duration_ms=0.0,
        checks=[],
    )


def refused_turn_feedback(reason: str, standing: str | None) -> str:
    """The feedback after an answer refused for its size (``reason``: "answer too long, ...").

    Like ``no_code_turn_feedback``: nothing was validated, the next prompt
    re-sends the current implementation, so the validator's feedback on it
    still stands.
    """
    text = (
        f"Your answer was not used: {reason}. Nothing was validated (score 0). Reply with the complete "
        f"implementation as ONE Python file of at most {fmt_size(CODE_MAX_BYTES)} inside ONE fenced block, "
        "and little else."
    )
    if standing is None:
        return text
    return (
        f"{text}\n\nYour current implementation (above) is unchanged, and the validator's feedback on it "
        f"still stands:\n\n{standing}"
    )


class LaneLoop:
    def __init__(
        self,
        run_id: str,
        lane: Lane,
        provider: Provider,
        validator: Validator,
        task: Task,
        settings: LoopSettings,
        clock: Callable[[], float],
        emit: Emit,
        origin_t: float | None = None,
    ) -> None:
        """``origin_t``: where time to pass counts from (the race start in a race); None: this run's start."""
        self.run_id = run_id
        self.lane = lane
        self.provider = provider
        self.validator = validator
        self.task = task
        self.settings = settings
        self.clock = clock
        self.emit = emit
        self.turn = 0  # the turn under way (or the last one)
        # Turns that ended (a TurnDone each, ERROR turns included): what LaneDone.turns reports.
        # A turn cut short by the budget or a stop has no TurnDone and is only named in the reason.
        self.completed = 0
        self.best = 0.0
        self.score = 0.0
        self.passed = 0  # checks passed by the implementation scored last
        self.start_t = 0.0
        self.origin_t = origin_t

    def _done(self, outcome: Outcome, reason: str, ttp: float | None = None) -> LaneDone:
        event = LaneDone(
            t=self.clock(),
            lane=self.run_id,
            outcome=outcome,
            reason=reason,
            turns=self.completed,
            time_to_pass_s=ttp,
            best_score=self.best,
            final_score=self.score,
        )
        self.emit(event)
        return event

    async def run(self) -> LaneDone:
        self.start_t = self.clock()
        self.emit(LaneStarted(t=self.start_t, lane=self.run_id))
        budget = self.settings.budget_s
        try:
            if budget is None:
                return await self._turns()
            try:
                async with asyncio.timeout(budget):
                    return await self._turns()
            except TimeoutError:
                return self._done(Outcome.BUDGET, f"wall-clock budget of {budget:g} s used up{self._cut_short()}")
        except asyncio.CancelledError:
            self._done(Outcome.ABORTED, f"race stopped{self._cut_short()}")
            raise

    def _cut_short(self) -> str:
        """" during turn 3, which did not finish" for the reason of a run stopped mid-turn."""
        if self.turn > self.completed:
            return f" during turn {self.turn}, which did not finish"
        return f" after turn {self.completed}"

    async def _turns(self) -> LaneDone:
        s = self.settings
        thrash = ThrashTracker(s.thrash_k)
        prompt = self.task.first_prompt()
        code: str | None = None
        standing: str | None = None  # the validator's feedback on ``code``
        previous_failing: set[str] | None = None
        for turn in range(1, s.max_turns + 1):
            self.turn = turn
            turn_start = time.perf_counter()
            self.emit(TurnStarted(t=self.clock(), lane=self.run_id, turn=turn))
            messages: list[ChatMessage] = [{"role": "user", "content": prompt}]

            model_start = time.perf_counter()
            gen = await self.provider.generate(messages, self._progress(turn))
            model_s = time.perf_counter() - model_start
            # Capped on receipt whatever the provider (a streaming one already stopped reading at the cap).
            answer, refusal = bound_answer(gen.text, stopped=gen.stopped_at_cap)
            self.emit(
                GenerationDone(
                    t=self.clock(),
                    lane=self.run_id,
                    turn=turn,
                    text=answer,
                    ttft_s=gen.ttft_s,
                    generation_s=gen.generation_s,
                    usage=gen.usage,
                    cost=gen.cost,
                    error=gen.error,
                    error_kind=gen.error_kind.value if gen.error_kind else None,
                    retries=gen.retries,
                    provider_timing=gen.provider_timing,
                )
            )
            if gen.error is not None:
                return self._error_turn(turn, turn_start, model_s, 0.0, gen.error)
            del gen  # an uncapped answer is kept nowhere past this point (not even while the next turn runs)

            new_code = None if refusal is not None else extract_code(answer)
            if new_code is not None and (refusal := code_refusal(new_code)) is not None:
                new_code = None
            validation_s = 0.0
            if refusal is not None:
                result = refused_result(self.task, refusal)
                feedback = refused_turn_feedback(refusal, standing)
            elif new_code is None:
                result = no_code_result(self.task)
                feedback = no_code_turn_feedback(standing)
            else:
                code = new_code
                v_start = time.perf_counter()
                result = clamp_result(await self.validator.validate(code))
                if result.infrastructure_error:  # the sandbox restarts its worker: one more try
                    result = clamp_result(await self.validator.validate(code))
                validation_s = time.perf_counter() - v_start
                feedback = standing = format_feedback(result)
            pass_t = self.clock()
            self.emit(
                ValidationDone(
                    t=pass_t,
                    lane=self.run_id,
                    turn=turn,
                    code=new_code,
                    result=result,
                    feedback=feedback,
                )
            )

            if result.infrastructure_error:
                return self._error_turn(turn, turn_start, model_s, validation_s, result.infrastructure_error)

            failing = {c.id for c in result.checks if not c.passed}
            if new_code is None:
                failing = {c.id for c in self.task.suite.checks}
            fixed = sorted(previous_failing - failing) if previous_failing is not None else []
            broke = sorted(failing - previous_failing) if previous_failing is not None else []
            previous_failing = failing

            self.score = result.score
            self.passed = result.passed
            status = classify(result, thrash.update(result.score))
            self.best = max(self.best, result.score)
            if status in (TurnStatus.PARTIAL, TurnStatus.FAIL) and turn < s.max_turns:
                # Built before TurnDone so the harness time of this turn includes it.
                prompt = self.task.fix_prompt(code or "(no implementation yet)", feedback, turn + 1)
            self.emit(
                TurnDone(
                    t=self.clock(),
                    lane=self.run_id,
                    turn=turn,
                    status=status,
                    score=result.score,
                    passed=result.passed,
                    total=result.total,
                    best_score=self.best,
                    fixed=fixed,
                    broke=broke,
                    model_s=model_s,
                    validation_s=validation_s,
                    harness_s=max(0.0, time.perf_counter() - turn_start - model_s - validation_s),
                )
            )
            self.completed = turn
            if status is TurnStatus.PASS:
                return self._done(
                    Outcome.PASS,
                    f"passed {result.passed}/{result.total} on turn {turn}",
                    ttp=pass_t - (self.start_t if self.origin_t is None else self.origin_t),
                )
            if status is TurnStatus.THRASH:
                return self._done(
                    Outcome.THRASH,
                    f"no new best score in {s.thrash_k} turns (best {self.best:.0%})",
                )
        return self._done(Outcome.TURN_LIMIT, f"turn limit of {s.max_turns} reached")

    def _error_turn(self, turn: int, turn_start: float, model_s: float, validation_s: float, reason: str) -> LaneDone:
        """Provider or sandbox trouble: an ERROR turn that never counts as the model's failure.

        Nothing about the implementation changed, so the turn carries the last
        scored turn's score and checks passed (both 0 before any).
        """
        self.emit(
            TurnDone(
                t=self.clock(),
                lane=self.run_id,
                turn=turn,
                status=TurnStatus.ERROR,
                score=self.score,
                passed=self.passed,
                total=len(self.task.suite.checks),
                best_score=self.best,
                model_s=model_s,
                validation_s=validation_s,
                harness_s=max(0.0, time.perf_counter() - turn_start - model_s - validation_s),
            )
        )
        self.completed = turn
        return self._done(Outcome.ERROR, reason)

    def _progress(self, turn: int) -> Callable[[int, int], None]:
        last = [-1.0]

        def on_progress(chars: int, tokens: int) -> None:
            now = self.clock()
            first = last[0] < 0
            if first or now - last[0] >= PROGRESS_INTERVAL_S:
                last[0] = now
                self.emit(
                    GenerationProgress(
                        t=now, lane=self.run_id, turn=turn, chars=chars, tokens=tokens, first_token=first
                    )
                )

        return on_progress
