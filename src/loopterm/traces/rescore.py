"""Rescore a recorded race: its answers, validated again against the current suite.

No model is called. Each lane's recorded events are walked in order; every
recorded candidate (``ValidationDone.code``) is validated again by the real
sandbox (with the loop's own retry when the sandbox fails under it), an answer
with no code stays a no-code turn, and each turn is judged again by the
engine's own judge (``loop/judge.py``: status, score, fixed and broke, best,
stop) with the loop's own feedback words. A lane that now passes or thrashes
earlier stops there; a sandbox failure during the rescore is an ERROR turn
that stops the lane with the sandbox's reason, as in a race, never a FAIL. A
lane whose recorded answers run out before the new rules stop it (it passed,
thrashed or met a sandbox failure in the race, not any more) ends ABORTED
with a reason saying so: a live race would have asked for more.

Timing: generation times are the recorded ones; validation times are the new,
real ones, so every event after a validation moves by the difference.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from loopterm import __version__
from loopterm.bounds import code_refusal, is_refusal
from loopterm.events import (
    Event,
    GenerationDone,
    GenerationProgress,
    LaneDone,
    LaneStarted,
    Outcome,
    RaceDone,
    RaceStarted,
    TurnDone,
    TurnStarted,
    TurnStatus,
    ValidationDone,
    ValidationResult,
)
from loopterm.feedback import format_feedback
from loopterm.loop.judge import Judge, Places
from loopterm.loop.lane import (
    Validator,
    no_code_result,
    no_code_turn_feedback,
    refused_result,
    refused_turn_feedback,
    validate_candidate,
)
from loopterm.loop.race import new_race_id
from loopterm.tasks import Task
from loopterm.traces.reader import RaceTrace

Clock = Callable[[], float]


@dataclass
class _LaneRescore:
    """The running state of one lane while its recorded turns are re-judged."""

    run_id: str
    judge: Judge
    offset: float = 0.0  # new t minus recorded t: grows by (new - old) validation time
    start_t: float = 0.0
    turn: int = 0
    pass_t: float | None = None  # new t of the latest validation (time to pass when it passed)
    validation_s: float = 0.0
    validated: tuple[ValidationResult, bool] | None = None  # the turn's new result, and whether it had code
    standing: str | None = None  # the new feedback on the lane's latest code, re-sent after a no-code answer
    # A turn recorded as the sandbox's ERROR that validates now: the race stopped there, the rules did not.
    error_cleared: bool = False


def started_event(old: RaceStarted, task: Task, race_id: str | None = None) -> RaceStarted:
    """The new trace's header: the old race's lanes and rules, marked as a rescore of it."""
    return old.model_copy(
        update={
            "race_id": race_id or new_race_id(),
            "task_id": task.id,
            "task_hash": task.hash,
            "kind": "rescore",
            "rescore_of": old.race_id,
            "started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "loopterm_version": __version__,
        }
    )


async def rescore_lane(
    run_id: str,
    recorded: list[Event],
    task: Task,
    validator: Validator,
    header: RaceStarted,
    clock: Clock = time.perf_counter,
) -> list[Event]:
    """The new events of one lane, from its recorded ones."""
    judge = Judge(checks=len(task.suite.checks), thrash_k=header.thrash_k, max_turns=header.max_turns)
    lane = _LaneRescore(run_id, judge)
    old_turns = {e.turn: e for e in recorded if isinstance(e, TurnDone)}
    out: list[Event] = []

    def shifted(event: Event) -> Event:
        return event.model_copy(update={"t": event.t + lane.offset})

    for event in recorded:
        if isinstance(event, LaneStarted):
            lane.start_t = header.t if header.timed_from_race_start else event.t + lane.offset
            out.append(shifted(event))
        elif isinstance(event, TurnStarted | GenerationProgress | GenerationDone):
            lane.turn = max(lane.turn, event.turn)
            out.append(shifted(event))
        elif isinstance(event, ValidationDone):
            out.append(await _revalidate(lane, event, old_turns.get(event.turn), task, validator, clock))
        elif isinstance(event, TurnDone):
            done, stop = _turn_done(lane, event)
            out.append(done)
            if stop is not None:
                out.append(stop)
                return out
        elif isinstance(event, LaneDone):
            out.append(_lane_end(lane, event, header.max_turns))
            return out
    return out  # the reader closes every lane, so this only happens for hand-built input


async def _revalidate(
    lane: _LaneRescore,
    event: ValidationDone,
    old_turn: TurnDone | None,
    task: Task,
    validator: Validator,
    clock: Clock,
) -> ValidationDone:
    old_s = old_turn.validation_s if old_turn is not None else event.result.duration_ms / 1000
    if event.code is None:
        old_s = 0.0
    # An answer refused for its size (recorded, or code past today's bound) stays refused, unvalidated.
    refusal = event.result.error if event.code is None and is_refusal(event.result.error) else None
    if event.code is not None and (refusal := code_refusal(event.code)) is not None:
        event = event.model_copy(update={"code": None})
    if refusal is not None:
        result, feedback, new_s = refused_result(task, refusal), refused_turn_feedback(refusal, lane.standing), 0.0
    elif event.code is None:
        # the same words the loop sends after an answer with no code
        result, feedback, new_s = no_code_result(task), no_code_turn_feedback(lane.standing), 0.0
    else:
        began = clock()
        result = await validate_candidate(validator, event.code)  # as the loop: a failed sandbox gets a retry
        new_s = clock() - began
        feedback = lane.standing = format_feedback(result)
    lane.offset += new_s - old_s
    lane.validation_s = new_s
    lane.validated = (result, event.code is not None)
    lane.pass_t = event.t + lane.offset
    return event.model_copy(update={"t": lane.pass_t, "result": result, "feedback": feedback})


def _turn_done(lane: _LaneRescore, event: TurnDone) -> tuple[TurnDone, LaneDone | None]:
    """The turn judged again, and the lane's end when the judge stops it there."""
    t = event.t + lane.offset
    lane.turn = max(lane.turn, event.turn)
    validated, lane.validated = lane.validated, None
    if validated is None:
        if event.status is TurnStatus.ERROR:
            # The model call failed: nothing was validated then, nothing is now. The recorded
            # lane_done that follows says why the lane stopped, as the race wrote it.
            verdict = lane.judge.error(event.turn, "")
            return event.model_copy(update={"t": t, **verdict.turn_fields()}), None
        return event.model_copy(update={"t": t}), None  # its validation line was damaged: keep what was recorded
    result, code = validated
    verdict = lane.judge.judge(event.turn, result, code=code)
    lane.error_cleared = event.status is TurnStatus.ERROR and verdict.status is not TurnStatus.ERROR
    done = event.model_copy(update={"t": t, **verdict.turn_fields(), "validation_s": lane.validation_s})
    if verdict.stop is None:
        return done, None
    ttp = None
    if verdict.stop is Outcome.PASS:
        assert lane.pass_t is not None
        ttp = lane.pass_t - lane.start_t
    return done, _lane_done(lane, t, verdict.stop, verdict.reason, ttp)


def _lane_end(lane: _LaneRescore, old: LaneDone, max_turns: int) -> LaneDone:
    """The recorded lane ended without the new rules stopping it: say how."""
    t = old.t + lane.offset
    if old.outcome in (Outcome.PASS, Outcome.THRASH) or (old.outcome is Outcome.ERROR and lane.error_cleared):
        reason = (
            f"the recorded answers end at turn {lane.turn} (the race stopped this lane there: "
            f"{old.outcome.value}); a live race would have asked for more"
        )
        return _lane_done(lane, t, Outcome.ABORTED, reason)
    if old.outcome is Outcome.TURN_LIMIT and lane.turn < max_turns:
        return _lane_done(lane, t, Outcome.ABORTED, f"the recorded answers end at turn {lane.turn}")
    # Turn limit, budget, a failed model call, an interrupted race: still how it ended.
    return _lane_done(lane, t, old.outcome, old.reason)


def _lane_done(lane: _LaneRescore, t: float, outcome: Outcome, reason: str, ttp: float | None = None) -> LaneDone:
    return LaneDone(
        t=t,
        lane=lane.run_id,
        outcome=outcome,
        reason=reason,
        turns=lane.turn,
        time_to_pass_s=ttp,
        best_score=lane.judge.best,
        final_score=lane.judge.score,
    )


async def rescore_events(
    trace: RaceTrace,
    task: Task,
    validator: Validator,
    *,
    race_id: str | None = None,
    clock: Clock = time.perf_counter,
) -> list[Event]:
    """Every event of the rescored race, in time order, ready for a TraceWriter."""
    header = started_event(trace.started, task, race_id)
    lanes = [lane.run_id for lane in trace.started.lanes]
    # Lanes run concurrently, as in the race; each lane's turns stay in order.
    per_lane = await asyncio.gather(
        *(rescore_lane(run_id, trace.lane_events(run_id), task, validator, header, clock) for run_id in lanes)
    )
    body = sorted((e for events in per_lane for e in events), key=lambda e: e.t)
    place = Places.of(header)
    for event in body:
        if isinstance(event, LaneDone):
            place(event)
    old_done = next((e for e in reversed(trace.events) if isinstance(e, RaceDone)), None)
    end_t = max([header.t, *(e.t for e in body)])
    return [header, *body, RaceDone(t=end_t, aborted=old_done.aborted if old_done else False)]
