"""Bench runs at once are bounded by --concurrency; runs a stop kept from starting are still closed.

Real sim lanes, the real sandbox (conftest's shared one), the real trace writer; what is asserted is
read from the events the race emits.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from support.shared_sandbox import SharedSandbox

from loopterm.events import Event, LaneDone, LaneStarted, Outcome, RaceDone, TurnStarted
from loopterm.lanes import resolve
from loopterm.loop.race import RaceConfig, run_race
from loopterm.tasks import Task
from loopterm.traces.reader import read_race
from loopterm.traces.writer import TraceWriter

pytestmark = pytest.mark.anyio


def most_at_once(events: list[Event]) -> int:
    """The largest number of runs between their LaneStarted and LaneDone at any moment."""
    running: set[str] = set()
    most = 0
    for event in events:  # in emission order: the order things happened
        if isinstance(event, LaneStarted):
            running.add(event.lane)
            most = max(most, len(running))
        elif isinstance(event, LaneDone):
            running.discard(event.lane)
    return most


@pytest.mark.parametrize(("concurrency", "expected"), [(2, 2), (None, 4)])
async def test_at_most_concurrency_runs_at_once(
    task: Task, sandbox: SharedSandbox, concurrency: int | None, expected: int
) -> None:
    events: list[Event] = []
    config = RaceConfig(time_scale=0.02, seed=4, runs=4, concurrency=concurrency, max_turns=2, kind="bench")
    await run_race([resolve("sim:fast-diffusion")], config, [events.append], task=task, validator=sandbox)
    assert sum(isinstance(e, LaneDone) for e in events) == 4
    assert most_at_once(events) == expected  # the bound, reached (so the count can see it)


async def test_runs_a_stop_kept_from_starting_are_closed_aborted(
    tmp_path: Path, task: Task, sandbox: SharedSandbox
) -> None:
    events: list[Event] = []
    first_turn = asyncio.Event()
    writer = TraceWriter(tmp_path)

    def sink(event: Event) -> None:
        events.append(event)
        if isinstance(event, TurnStarted):
            first_turn.set()

    # One slot: while run 1 streams its first turn, runs 2 and 3 wait for the slot.
    config = RaceConfig(time_scale=1, seed=1, runs=3, concurrency=1, kind="bench")
    runner = asyncio.create_task(
        run_race([resolve("sim:frontier")], config, [writer, sink], task=task, validator=sandbox)
    )
    await first_turn.wait()
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner
    writer.close()

    done = {e.lane: e for e in events if isinstance(e, LaneDone)}
    assert set(done) == {"frontier-sim-r01", "frontier-sim-r02", "frontier-sim-r03"}
    assert {e.lane for e in events if isinstance(e, LaneStarted)} == {"frontier-sim-r01"}
    assert done["frontier-sim-r01"].reason == "race stopped during turn 1, which did not finish"
    for run_id in ("frontier-sim-r02", "frontier-sim-r03"):
        assert done[run_id].outcome is Outcome.ABORTED and done[run_id].turns == 0
        assert done[run_id].reason == "race stopped before this run started"
    assert isinstance(events[-1], RaceDone) and events[-1].aborted
    assert writer.folder is not None
    trace = read_race(writer.folder)
    assert trace.status == "aborted" and trace.warnings == [] and trace.events == events
