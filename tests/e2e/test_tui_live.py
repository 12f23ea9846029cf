"""The viewer on a real race: simulated lanes, the real sandbox and suite, a trace on disk."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.tui_pilot import news_shown, panes, until
from textual.worker import WorkerCancelled

from loopterm.events import GenerationDone, LaneDone, RaceDone, TurnDone, ValidationDone
from loopterm.lanes import resolve
from loopterm.loop.race import RaceConfig
from loopterm.racestate import RaceState
from loopterm.sources import EngineSource
from loopterm.stats.runs import summarize
from loopterm.stats.table import ordinal, outcome_text
from loopterm.tasks import find_task
from loopterm.traces.reader import read_race
from loopterm.tui.app import EXIT_QUIT_LIVE, make_app
from loopterm.tui.panetext import lane_outcome
from loopterm.tui.screens.confirm_quit import ConfirmQuit

pytestmark = pytest.mark.anyio

TICK = object()  # the eight-lane test's timer, in its timeline of events
SIM_LANES = ["sim:fast-diffusion", "sim:frontier", "sim:mini", "sim:weak-local"]


def live_race(root: Path, *, time_scale: float, max_turns: int = 6) -> EngineSource:
    lanes = [resolve(name) for name in SIM_LANES]
    config = RaceConfig(max_turns=max_turns, time_scale=time_scale, seed=1)
    return EngineSource(lanes, config, find_task(), root)


async def test_a_real_sim_race_shows_what_the_trace_records(tmp_path: Path) -> None:
    source = live_race(tmp_path, time_scale=0)
    app = make_app(source)
    async with app.run_test(size=(160, 48)) as pilot:
        assert app.race_worker is not None
        await app.race_worker.wait()
        await until(pilot, lambda: len(panes(app)) == 4 and all(p.outcome is not None for p in panes(app).values()))
        await news_shown(pilot, app)  # the repaint after the last event
        trace = read_race(source.trace_folder)
        assert trace.status == "complete"
        # The viewer's state is exactly the fold of the stored trace: a replay will match it.
        replayed = RaceState()
        for event in trace.events:
            replayed.apply(event)
        assert replayed == app.race

        runs = {run.info.run_id: run for run in summarize(trace.events)}
        shown = panes(app)
        assert list(shown) == [lane.run_id for lane in trace.started.lanes]
        for run_id, pane in shown.items():
            run = runs[run_id]
            text = "\n".join(pane.lines)
            assert pane.lines[1] == f"turn {run.turns}/6  done"
            outcome = outcome_text(run) + (f"  {ordinal(run.place)}" if run.place else "")
            assert outcome in pane.lines
            last_turn = [e for e in trace.lane_events(run_id) if isinstance(e, TurnDone)][-1]
            assert pane.lines[2].endswith(f"{last_turn.passed}/{last_turn.total} {last_turn.score:.0%}")
            last_validation = [e for e in trace.lane_events(run_id) if isinstance(e, ValidationDone)][-1]
            failing = [c.id for c in last_validation.result.failing]
            assert sorted(c.id for c in app.race.lanes[run_id].failing) == sorted(failing)
            if failing and run.outcome != "PASS":
                newest = app.race.lanes[run_id].failing[0].id
                assert newest in text

        # Finishing order: places follow the order in which lanes passed.
        passed = sorted((e for e in trace.events if isinstance(e, LaneDone) and e.outcome == "PASS"), key=lambda e: e.t)
        assert [e.place for e in passed] == list(range(1, len(passed) + 1))
        assert [lane.run_id for lane in app.race.finish_order()] == [e.lane for e in passed]
        assert passed, "with seed 1 at least one simulated lane passes"
        await pilot.press("q")  # finished: no question
        await until(pilot, lambda: app.return_value is not None)
        assert app.return_value == 0


async def test_quitting_a_live_race_leaves_a_complete_aborted_trace(tmp_path: Path) -> None:
    source = live_race(tmp_path, time_scale=0.05, max_turns=15)
    app = make_app(source)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: any(lane.turn >= 1 for lane in app.race.lanes.values()), timeout=20)
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmQuit)
        await pilot.press("y")
        assert app.race_worker is not None
        with pytest.raises(WorkerCancelled):
            await app.race_worker.wait()
        await until(pilot, lambda: app.return_value is not None)
        assert app.return_value == EXIT_QUIT_LIVE
    header = json.loads((tmp_path / app.race.race_id / "race.json").read_text())
    assert header["status"] == "aborted"
    trace = read_race(tmp_path / app.race.race_id)
    assert trace.warnings == []  # every lane closed itself: nothing had to be patched up
    ends = {e.lane: e for e in trace.events if isinstance(e, LaneDone)}
    assert set(ends) == {lane.run_id for lane in trace.started.lanes}
    assert any(e.outcome == "ABORTED" for e in ends.values())
    assert isinstance(trace.events[-1], RaceDone) and trace.events[-1].aborted
    assert app.race.aborted and app.race.done  # the viewer saw the end too
    # An aborted lane's pane counts the turns that ended, as the results table does (the
    # turn the stop cut short is not one of them).
    runs = {run.info.run_id: run for run in summarize(trace.events)}
    for run_id, lane in app.race.lanes.items():
        assert lane_outcome(lane) == outcome_text(runs[run_id]), run_id


async def test_eight_lanes_at_full_speed_keep_the_ui_responsive(tmp_path: Path) -> None:
    # One timeline of what the app's event loop ran, in order: timer ticks and race
    # events. A validation runs in the sandbox's child processes while the loop stays
    # free, so the timer ticks between a turn's GenerationDone and its ValidationDone;
    # a loop that blocked while validating could not tick there at all. This counts
    # those windows and asks nothing of the clock: a loaded machine only makes the
    # validations, and so the windows, longer. (The worst timer gap is a measured
    # figure in the README, not an assertion.)
    timeline: list[object] = []
    lanes = [resolve(name) for name in SIM_LANES * 2]
    source = EngineSource(
        lanes, RaceConfig(max_turns=6, time_scale=0, seed=2), find_task(), tmp_path, extra_sinks=[timeline.append]
    )
    app = make_app(source)
    async with app.run_test(size=(160, 48)) as pilot:
        app.set_interval(0.01, lambda: timeline.append(TICK))
        await until(pilot, lambda: len(panes(app)) == 8, timeout=20)  # mounting eight panes is a one-off
        await pilot.press("s")  # keys work while eight lanes stream and validate
        assert app.screen.id == "summary"
        await pilot.press("escape")
        assert app.race_worker is not None
        await app.race_worker.wait()
    open_windows: dict[tuple[str, int], bool] = {}  # (lane, turn) being validated -> the timer ticked since
    ticked: list[bool] = []
    for item in timeline:
        if item is TICK:
            open_windows = dict.fromkeys(open_windows, True)
        elif isinstance(item, GenerationDone) and item.error is None:
            open_windows[(item.lane, item.turn)] = False
        elif isinstance(item, ValidationDone) and item.code is not None:
            ticked.append(open_windows.pop((item.lane, item.turn)))
    assert len(ticked) >= 8, f"only {len(ticked)} turns were validated"
    # Most, not all: a validation the sandbox answers quickly can fall between two ticks.
    assert sum(ticked) * 2 >= len(ticked), (
        f"the event loop was blocked: the timer ticked during only {sum(ticked)} of {len(ticked)} validations"
    )


async def test_the_panes_are_drawn_before_the_race_clock_starts(tmp_path: Path) -> None:
    # The viewer hands the engine a hook: the engine waits for the viewer's first frame with
    # every pane in it before its clock starts, so mounting them is not any lane's time.
    source = live_race(tmp_path, time_scale=0, max_turns=2)
    app = make_app(source)
    drawn: list[int] = []

    async with app.run_test(size=(120, 40)):
        hook = source.before_clock
        assert hook is not None, "the viewer did not ask the engine to wait for its first frame"

        async def drawn_then_go() -> None:
            await hook()
            drawn.append(len(panes(app)))

        source.before_clock = drawn_then_go
        assert app.race_worker is not None
        await app.race_worker.wait()  # the hook ran inside it, before the race clock started
        assert drawn == [4]
        assert read_race(source.trace_folder).status == "complete"
