"""Hand-built, deterministic race event streams for the viewer's tests.

``script_race`` writes the events a race of a few lanes would emit, with fixed
times, checks and messages; ``ScriptedSource`` plays a list of events into a
sink (yielding to the loop between events, like the engine does), and can
hold before an event until the test releases it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from loopterm.events import (
    CheckResult,
    Event,
    LaneDone,
    LaneInfo,
    Outcome,
    RaceDone,
    TokenUsage,
    TurnStatus,
    ValidationResult,
)
from loopterm.racestate import RaceState
from loopterm.sources import EventSink
from support.event_builders import LaneEvents, in_time_order, lane_info, race_started, validation_result

CHECK_IDS = [
    "shape.success_json",
    "shape.problem_422_errors",
    "logic.rounding_half_up",
    "logic.total_limit_below",
    "logic.line_discount_at",
    "robustness.malformed_json_400",
    "robustness.lines_count_422",
    "state.approve_twice_409",
]

LANES = [
    lane_info("fast", "Fast diffusion (sim)", "fast-diffusion", "H/D"),
    lane_info("frontier", "Frontier (sim)", "frontier", "H/AR"),
    lane_info("mini", "Mini (sim)", "mini", "H/AR"),
    lane_info("weak", "Weak local (sim)", "weak-local", "L/AR"),
]


def result(failing: Sequence[str], checks: Sequence[str] = CHECK_IDS) -> ValidationResult:
    results = [
        CheckResult(
            id=cid,
            group=cid.split(".")[0],
            description=f"what {cid} checks",
            passed=cid not in failing,
            message=f"sent POST /quotes {{...}}; expected the right {cid}; got a wrong one" if cid in failing else "",
        )
        for cid in checks
    ]
    return validation_result("quote-approval", results, duration_ms=40.0)


def fold(events: Iterable[Event]) -> RaceState:
    """The view state after these events."""
    state = RaceState()
    for event in events:
        state.apply(event)
    return state


@dataclass
class LanePlan:
    """One lane's turns: the failing check ids after each turn, and how it ends."""

    info: LaneInfo
    turns: list[list[str]]
    outcome: Outcome
    start: float = 0.1
    turn_s: float = 1.0  # first token at 0.2 of it, generation done at 0.6, validation done at 1.0
    reason: str = ""
    error_on_turn: int | None = None  # the generation of this turn fails


def lane_events(plan: LanePlan, max_turns: int) -> list[Event]:
    lane = plan.info.run_id
    t = plan.start
    track = LaneEvents(lane, t)
    score = 0.0
    for turn, failing in enumerate(plan.turns, start=1):
        track.turn_started(t, turn)
        ts = plan.turn_s
        track.progress(t + 0.2 * ts, turn, chars=400, tokens=100, first_token=True)
        track.progress(t + 0.4 * ts, turn, chars=2000, tokens=500)
        if plan.error_on_turn == turn:
            track.generation(
                t + 0.6 * ts, turn, text="", ttft_s=None, generation_s=0.6, error=plan.reason, error_kind="auth"
            )
            track.turn_done(
                t + 0.6 * ts,
                turn,
                TurnStatus.ERROR,
                score,
                0,
                len(CHECK_IDS),
                model_s=0.6 * ts,
                validation_s=0.0,
                harness_s=0.001,
            )
            return track.lane_done(
                t + 0.6 * ts, Outcome.ERROR, plan.reason, turns=turn, time_to_pass_s=None, final_score=score
            )
        track.generation(
            t + 0.6 * ts,
            turn,
            text="```python\napp = None\n```",
            ttft_s=0.2 * ts,
            generation_s=0.6 * ts,
            usage=TokenUsage(prompt=1000, completion=600, estimated=True),
            cost=0.0,
        )
        res = result(failing)
        code = f"# turn {turn} of {lane}\nfrom fastapi import FastAPI\n\napp = FastAPI()\n"
        feedback = f"Score: {res.passed}/{res.total} checks pass. Fix: " + ", ".join(failing)
        track.validation(t + ts, turn, code=code, result=res, feedback=feedback)
        score = res.score
        last = turn == len(plan.turns)
        status = TurnStatus.PASS if not failing else TurnStatus.PARTIAL
        if last and plan.outcome is Outcome.THRASH:
            status = TurnStatus.THRASH
        track.turn_done(
            t + ts,
            turn,
            status,
            score,
            res.passed,
            res.total,
            failing=failing,
            model_s=0.6 * ts,
            validation_s=0.4 * ts,
            harness_s=0.002,
        )
        t += ts
    reason = plan.reason or {
        Outcome.PASS: f"passed on turn {len(plan.turns)}",
        Outcome.THRASH: "no new best score in 3 turns",
        Outcome.TURN_LIMIT: f"turn limit of {max_turns} reached",
    }.get(plan.outcome, "stopped")
    return track.lane_done(
        t,
        plan.outcome,
        reason,
        turns=len(plan.turns),
        time_to_pass_s=t if plan.outcome is Outcome.PASS else None,  # from the race start (t=0)
        final_score=score,
    )


def default_plans() -> list[LanePlan]:
    return [
        LanePlan(LANES[0], [["logic.rounding_half_up", "shape.success_json"], []], Outcome.PASS, turn_s=0.5),
        LanePlan(
            LANES[1],
            [["logic.rounding_half_up", "state.approve_twice_409"], ["shape.success_json"], []],
            Outcome.PASS,
            turn_s=1.5,
        ),
        LanePlan(
            LANES[2],
            [CHECK_IDS[:5], CHECK_IDS[2:4], ["logic.total_limit_below"], ["logic.total_limit_below"]],
            Outcome.TURN_LIMIT,
            turn_s=1.0,
        ),
        LanePlan(
            LANES[3],
            [
                CHECK_IDS[:6],
                CHECK_IDS[:4],
                [
                    "logic.rounding_half_up",
                    "robustness.lines_count_422",
                    "state.approve_twice_409",
                    "shape.success_json",
                ],
                CHECK_IDS[:4],
            ],
            Outcome.THRASH,
            turn_s=1.2,
        ),
    ]


def script_race(
    plans: Sequence[LanePlan] | None = None,
    *,
    max_turns: int = 4,
    race_id: str = "20260101-120000-abcd",
    time_scale: float = 0.2,
    done: bool = True,
) -> list[Event]:
    """A whole race, events merged in time order (ties keep each lane's own order)."""
    plans = list(default_plans() if plans is None else plans)
    start = race_started(
        [p.info for p in plans],
        race_id=race_id,
        task_hash="0" * 64,
        max_turns=max_turns,
        started_at="2026-01-01T12:00:00Z",
        time_scale=time_scale,
        seed=1,
    )
    events: list[Event] = [start, *in_time_order(lane_events(plan, max_turns) for plan in plans)]
    # Places go to passing lanes in the order they finished, as the engine assigns them.
    place = 0
    for event in events:
        if isinstance(event, LaneDone) and event.outcome is Outcome.PASS:
            place += 1
            event.place = place
    if done:
        events.append(RaceDone(t=max(e.t for e in events), aborted=False))
    return events


@dataclass
class ScriptedSource:
    """An EventSource that plays a fixed list of events; ``hold_at`` pauses before that index."""

    events: list[Event]
    live: bool = True
    hold_at: int | None = None
    released: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)
    sent: int = 0

    async def run(self, sink: EventSink) -> None:
        try:
            for i, event in enumerate(self.events):
                if self.hold_at is not None and i == self.hold_at:
                    await self.released.wait()
                sink(event)
                self.sent = i + 1
                await asyncio.sleep(0)
        finally:
            self.finished.set()
