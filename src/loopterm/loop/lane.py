"""The loop of one lane: generate, extract, validate, and ask the judge (``loop/judge.py``).

Turn 1 sends the task's first prompt (goal, contract, rules, output format).
Every later turn is a fresh single message (a "Ralph loop": no chat history)
re-sending the goal and contract, the current implementation and the
validator's feedback on it. Every step is emitted as an event. What a turn
scored, its status and whether the lane stops are the judge's verdict.

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
from loopterm.loop.judge import Judge, Verdict
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


async def validate_candidate(validator: Validator, code: str) -> ValidationResult:
    """One candidate's validation, clamped; when the sandbox itself failed under it, once more.

    Shared by the live loop and rescore, so both give the sandbox the same second chance
    before a turn becomes an ERROR.
    """
    result = clamp_result(await validator.validate(code))
    if result.infrastructure_error:  # the sandbox restarts its worker: one more try
        result = clamp_result(await validator.validate(code))
    return result


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
    """The result recorded for an answer with no code: nothing validated (score 0, no checks).

    The turn's own score is the judge's: the implementation still in place.
    """
    return refused_result(task, "the answer contained no Python code block")


def refused_result(task: Task, reason: str) -> ValidationResult:
    """The result recorded for an answer not validated (no code, or too long): score 0, no checks."""
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
        # The judge's best and the score of the implementation in place, for a LaneDone cut short.
        self.best = 0.0
        self.score = 0.0
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
        """ " during turn 3, which did not finish" for the reason of a run stopped mid-turn."""
        if self.turn > self.completed:
            return f" during turn {self.turn}, which did not finish"
        return f" after turn {self.completed}"

    async def _turns(self) -> LaneDone:
        s = self.settings
        judge = Judge(checks=len(self.task.suite.checks), thrash_k=s.thrash_k, max_turns=s.max_turns)
        prompt = self.task.first_prompt()
        code: str | None = None
        standing: str | None = None  # the validator's feedback on ``code``
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
                return self._error_turn(judge.error(turn, gen.error), turn_start, model_s, 0.0)
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
                result = await validate_candidate(self.validator, code)
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

            verdict = judge.judge(turn, result, code=new_code is not None)
            self.score, self.best = judge.score, judge.best
            if verdict.status is TurnStatus.ERROR:
                return self._error_turn(verdict, turn_start, model_s, validation_s)
            if verdict.stop is None:
                # Built before TurnDone so the harness time of this turn includes it.
                prompt = self.task.fix_prompt(code or "(no implementation yet)", feedback, turn + 1)
            self.emit(
                TurnDone(
                    t=self.clock(),
                    lane=self.run_id,
                    **verdict.turn_fields(),
                    model_s=model_s,
                    validation_s=validation_s,
                    harness_s=max(0.0, time.perf_counter() - turn_start - model_s - validation_s),
                )
            )
            self.completed = turn
            if verdict.stop is not None:
                origin = self.start_t if self.origin_t is None else self.origin_t
                ttp = pass_t - origin if verdict.stop is Outcome.PASS else None
                return self._done(verdict.stop, verdict.reason, ttp=ttp)
        return self._done(Outcome.TURN_LIMIT, judge.limit_reason)  # only with max_turns 0: no turn to judge

    def _error_turn(self, verdict: Verdict, turn_start: float, model_s: float, validation_s: float) -> LaneDone:
        """Provider or sandbox trouble: an ERROR turn (the judge's ``error`` verdict), never the model's failure."""
        self.emit(
            TurnDone(
                t=self.clock(),
                lane=self.run_id,
                **verdict.turn_fields(),
                model_s=model_s,
                validation_s=validation_s,
                harness_s=max(0.0, time.perf_counter() - turn_start - model_s - validation_s),
            )
        )
        self.completed = verdict.turn
        return self._done(Outcome.ERROR, verdict.reason)

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
