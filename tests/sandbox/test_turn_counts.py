"""A run's turns are the turns that ended: budget, abort and ERROR runs agree with their statuses.

Real sim lanes, the real sandbox (conftest's shared one) and suite. The unfinished turn of a run cut
short is named in its reason, never counted.
"""

from __future__ import annotations

import asyncio

import pytest
from support.event_builders import race_started
from support.shared_sandbox import SharedSandbox

from loopterm.events import Event, LaneDone, Outcome, TurnDone, TurnStarted, TurnStatus
from loopterm.lanes import resolve
from loopterm.loop.clock import RaceClock
from loopterm.loop.lane import LaneLoop, LoopSettings
from loopterm.loop.race import RaceConfig, run_race
from loopterm.providers import make_provider
from loopterm.providers.base import ChatMessage, ErrorKind, Generation, ProgressCallback, Provider
from loopterm.stats.aggregate import build_report
from loopterm.stats.runs import summarize
from loopterm.tasks import Task

pytestmark = pytest.mark.anyio


def of(events: list[Event], cls: type, lane: str) -> list:
    return [e for e in events if isinstance(e, cls) and e.lane == lane]


async def test_a_budget_cut_turn_is_not_counted(task: Task, sandbox: SharedSandbox) -> None:
    # Frontier at its own pace waits ~15 s for a first token: the budget ends turn 1 unfinished.
    events: list[Event] = []
    await run_race(
        [resolve("sim:frontier")],
        RaceConfig(time_scale=1, seed=1, budget_s=0.3),
        [events.append],
        task=task,
        validator=sandbox,
    )
    (done,) = of(events, LaneDone, "frontier-sim")
    assert done.outcome is Outcome.BUDGET and of(events, TurnDone, "frontier-sim") == []
    assert done.turns == 0
    assert done.reason == "wall-clock budget of 0.3 s used up during turn 1, which did not finish"
    (run,) = summarize(events)
    assert run.turns == 0 and run.statuses == [] and run.to_json()["turns"] == 0
    bench_run = build_report([events]).to_json()["runs"][0]
    assert bench_run["turns"] == len(bench_run["scores"]) == 0


async def test_an_abort_counts_the_turns_that_ended(task: Task, sandbox: SharedSandbox) -> None:
    # Stop the race once the fast lane's first turn has ended and its second has begun.
    events: list[Event] = []
    second_turn = asyncio.Event()

    def sink(event: Event) -> None:
        events.append(event)
        if isinstance(event, TurnStarted) and event.turn == 2:
            second_turn.set()

    config = RaceConfig(time_scale=0.2, seed=1)
    runner = asyncio.create_task(
        run_race([resolve("sim:fast-diffusion")], config, [sink], task=task, validator=sandbox)
    )
    await second_turn.wait()
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner
    (done,) = of(events, LaneDone, "fast-diffusion-sim")
    assert done.outcome is Outcome.ABORTED
    assert done.turns == len(of(events, TurnDone, "fast-diffusion-sim")) == 1
    assert done.reason == "race stopped during turn 2, which did not finish"
    assert summarize(events)[0].turns == 1


class FailsOnTurnTwo:
    """A real sim model for turn 1, then the provider error a real SDK lane returns after its retries."""

    def __init__(self, inner: Provider) -> None:
        self.inner = inner
        self.calls = 0

    async def generate(self, messages: list[ChatMessage], on_progress: ProgressCallback | None = None) -> Generation:
        self.calls += 1
        if self.calls == 1:
            return await self.inner.generate(messages, on_progress)
        return Generation(error="server error 500 after 2 retries", error_kind=ErrorKind.SERVER_ERROR)


async def test_an_error_turn_carries_the_last_score_and_checks_passed(task: Task, sandbox: SharedSandbox) -> None:
    lane = resolve("sim:fast-diffusion")  # never one-shots: turn 1 is partial
    provider = FailsOnTurnTwo(make_provider(lane, task=task, seed=5, time_scale=0))
    events: list[Event] = []
    loop = LaneLoop("fast", lane, provider, sandbox, task, LoopSettings(), RaceClock(), events.append)
    done = await loop.run()
    first, error = of(events, TurnDone, "fast")
    assert first.status is TurnStatus.PARTIAL and 0 < first.passed < first.total
    assert error.status is TurnStatus.ERROR
    assert (error.score, error.passed, error.total) == (first.score, first.passed, first.total)
    assert done.outcome is Outcome.ERROR and done.turns == 2
    assert summarize([race_started([lane.info("fast", 0)], race_id="r"), *events])[0].turns == 2
