"""What a new user trips over in the viewer (issue 15, items 16-18, 23, 24).

The end of a race is announced with its keys; the header keeps its layout; a
screen's panes share one wording; the badges are explained; the keys screen
lists loopterm's keys; a second Ctrl+C at the quit question quits.
"""

from __future__ import annotations

import pytest
from support.event_builders import LaneEvents, lane_info, race_started
from support.tui_pilot import app_for, finished, palette_found, panes, until
from support.tui_script import script_race
from textual.widgets import Static

from loopterm.events import Event, GenerationProgress
from loopterm.racestate import RaceState
from loopterm.traces.replay import ReplaySource
from loopterm.tui.app import EXIT_QUIT_LIVE, make_app
from loopterm.tui.glyphs import UNICODE
from loopterm.tui.palette import Palette
from loopterm.tui.panetext import full_lines, plain_style
from loopterm.tui.screens.confirm_quit import ConfirmQuit
from loopterm.tui.screens.keys import KeysScreen
from loopterm.tui.screens.lane_detail import LaneDetailScreen
from loopterm.tui.screens.race import RaceScreen
from loopterm.tui.widgets.race_header import RaceHeader
from loopterm.tui.widgets.race_over import RaceOver

pytestmark = pytest.mark.anyio


def index_after(events: list[Event], t: float) -> int:
    return next(i for i, event in enumerate(events) if event.t > t)


# 16: the end of a race is announced, with what s and q do -----------------------------


async def test_the_end_of_a_race_is_announced_with_its_keys() -> None:
    events = script_race()
    app, source = app_for(events, hold_at=len(events) - 1)  # everything but race_done
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: source.sent == len(events) - 1 and app.race.version == len(events) - 1)
        over = app.screen.query_one(RaceOver)
        await pilot.pause()
        assert not over.display  # nothing to say while the race runs
        source.released.set()
        await finished(pilot, app, source)
        await until(pilot, lambda: over.display and over.text != "")
        assert over.text.startswith("Race finished at 4.9 s")
        assert "s results" in over.text and "q quit" in over.text
        assert over.region.bottom == 23  # just above the footer, on screen


async def test_the_race_over_line_names_the_keys_in_force() -> None:
    app, source = app_for()
    async with app.run_test(size=(120, 24)) as pilot:
        app.set_keymap({"summary": "f2"})
        await finished(pilot, app, source)
        over = app.screen.query_one(RaceOver)
        await until(pilot, lambda: over.display and over.text != "")
        assert "f2 results table" in over.text and "c chart" in over.text


async def test_a_replay_says_it_is_at_its_end_and_r_watches_it_again() -> None:
    replay = ReplaySource(script_race(), speed=50.0, hold_at_end=True)
    app = make_app(replay, controls=replay)
    async with app.run_test(size=(80, 24)) as pilot:
        over = app.screen.query_one(RaceOver)
        await until(pilot, lambda: app.race.done and over.display and over.text != "")
        assert over.text.startswith("Replay at its end: race finished at 4.9 s")
        assert "r again" in over.text
        await pilot.press("space", "r")  # paused, the restarted replay stays at its start
        await until(pilot, lambda: app.race.generation == 2 and not app.race.done)
        await until(pilot, lambda: not over.display)  # watching again: nothing is over


async def test_a_race_that_fails_to_run_says_so_at_the_foot() -> None:
    class Broken:
        live = True

        async def run(self, sink) -> None:
            raise RuntimeError("sandbox would not start")

    app = make_app(Broken(), now=lambda: 0.0)
    async with app.run_test(size=(80, 24)) as pilot:
        over = app.screen.query_one(RaceOver)
        await until(pilot, lambda: over.display and over.text != "")
        assert over.text.startswith("Race stopped with an error") and "q quit" in over.text
        assert over.has_class("-aborted")


# 17: the header keeps its layout -------------------------------------------------------


async def test_the_header_keeps_its_layout_as_the_clock_counts_and_the_race_ends() -> None:
    events = script_race()
    clock = [2.5]
    app, source = app_for(events, hold_at=len(events) - 1, now=lambda: clock[0])
    # 78 columns: with the status as wide as its words, "loopterm" went when "finished" came.
    async with app.run_test(size=(78, 24)) as pilot:
        await until(pilot, lambda: source.sent == len(events) - 1)
        screen = app.screen
        assert isinstance(screen, RaceScreen)
        header = screen.query_one(RaceHeader)
        lines = []
        for t in (2.5, 9.9, 10.0, 99.9, 100.0):
            clock[0] = t
            screen.tick()
            await pilot.pause()
            lines.append(header.text)
        source.released.set()
        await until(pilot, lambda: "finished" in header.text)
        lines.append(header.text)
    running = lines[0]
    assert "sim x0.2" in running
    status_at = running.index("running")
    for line in lines:
        assert len(line) == len(running)
        assert line[:status_at] == running[:status_at], line  # title and middle never move
    assert lines[-1][status_at:].startswith("finished")  # the brand stays at the finish
    assert [line[status_at:].split()[1] for line in lines] == ["2.5", "9.9", "10.0", "99.9", "100.0", "4.9"]
    assert lines[1].endswith("  9.9 s") and lines[2].endswith(" 10.0 s")  # the digits grow leftwards, in place


async def test_pausing_a_replay_keeps_the_badge_in_place_and_the_sim_note() -> None:
    replay = ReplaySource(script_race(), speed=0.5, hold_at_end=True)  # the widest speed, "x0.5"
    app = make_app(replay, controls=replay, now=lambda: 3.0)
    async with app.run_test(size=(80, 24)) as pilot:
        header = app.screen.query_one(RaceHeader)
        await until(pilot, lambda: app.race.started and "REPLAY x0.5" in header.text)
        playing = header.text
        await pilot.press("space")
        await until(pilot, lambda: "PAUSED" in header.text)
        paused = header.text
        await pilot.press("plus", "plus")  # x1, then x2, while paused: the race stands still
        await until(pilot, lambda: "x2" in header.text)
        faster = header.text
    assert "sim x0.2" in playing and "sim x0.2" in paused and "sim x0.2" in faster
    assert paused.index("PAUSED") == playing.index("REPLAY")
    assert len(paused) == len(playing) == len(faster)
    assert faster.index("running") == playing.index("running")


# 18: one form per screen ---------------------------------------------------------------


def test_a_pane_keeps_its_wording_while_the_numbers_grow() -> None:
    lane = LaneEvents("fast", 0.0)
    lane.turn_started(0.0, 1)
    lane.progress(0.5, 1, chars=40, tokens=10, first_token=True)
    lane.progress(2.58, 1, chars=3000, tokens=745)  # 354 tok/s since the first token
    growing = [
        race_started([lane_info("fast", "Fast (sim)", "fast-diffusion", "H/D")], race_id="r", max_turns=15),
        *lane.events,
    ]
    later = GenerationProgress(t=5.3, lane="fast", turn=1, chars=7000, tokens=1700)
    state = RaceState()
    for event in growing:
        state.apply(event)
    before = full_lines(state.lanes["fast"], state, 2.6, 35, 9, UNICODE, plain_style)[1].plain
    state.apply(later)
    after = full_lines(state.lanes["fast"], state, 5.3, 35, 9, UNICODE, plain_style)[1].plain
    assert "745 tok" in before and "1.7k tok" in after
    # It was "generating 745 tok 354/s", then "gen 1.7k tok 354/s" once the count had a digit more.
    assert before.split()[2] == after.split()[2] == "gen"


async def test_side_by_side_panes_share_one_wording() -> None:
    events = script_race(max_turns=15)
    hold = index_after(events, 0.35)  # fast and mini generate, frontier and weak wait
    app, source = app_for(events, hold_at=hold)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: source.sent == hold and app.race.version == hold)
        shown = panes(app)
        await until(
            pilot,
            lambda: all(p.lines[1:2] and p.lines[1].startswith("turn") and p.form is not None for p in shown.values()),
        )
        idents = {run_id: pane.lines[0] for run_id, pane in shown.items()}
        phases = {run_id: pane.lines[1] for run_id, pane in shown.items()}
        assert len({pane.form for pane in shown.values()}) == 1
    # "frontier" fits beside SIMULATED, "fast-diffusion" does not: both say SIM.
    assert all(" SIM " in ident and "SIMULATED" not in ident for ident in idents.values()), idents
    assert " gen " in phases["fast"] and "waiting 2." in phases["frontier"], phases
    assert not any("generating" in p or "waiting for" in p for p in phases.values()), phases
    # The phase starts in the same column in every pane: turns are padded to "turn 15/15".
    assert len({p.index("gen") if "gen" in p else p.index("waiting") for p in phases.values()}) == 1


async def test_a_large_screen_uses_the_long_words_in_every_pane() -> None:
    events = script_race(max_turns=15)
    hold = index_after(events, 0.35)
    app, source = app_for(events, hold_at=hold)
    async with app.run_test(size=(200, 50)) as pilot:
        await until(pilot, lambda: source.sent == hold and app.race.version == hold)
        shown = panes(app)
        await until(
            pilot,
            lambda: all(p.lines[1:2] and p.lines[1].startswith("turn") and p.form is not None for p in shown.values()),
        )
        phases = {run_id: pane.lines[1] for run_id, pane in shown.items()}
        idents = [pane.lines[0] for pane in shown.values()]
    assert "generating 500 tok" in phases["fast"] and "waiting for first token" in phases["frontier"], phases
    assert all(" SIMULATED " in ident for ident in idents)


# 23: the badges are explained ----------------------------------------------------------


async def test_the_keys_screen_explains_the_badges() -> None:
    app, source = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app, source)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, KeysScreen))
        legend = dict(app.screen.legend)
        assert legend["H/D"] == "hosted, diffusion model" and legend["L/AR"] == "local, autoregressive model"
        assert "--time-scale" in legend["sim x0.2"] and "0.2 of its profile's time" in legend["sim x0.2"]
        assert "SIM, SIMULATED" in legend and "REPLAY x2" in legend
        await pilot.press("question_mark")  # pressed again: back
        await until(pilot, lambda: isinstance(app.screen, RaceScreen))


async def test_the_lane_detail_spells_out_its_badges() -> None:
    app, source = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app, source)
        app.action_open_lane("fast")
        await until(pilot, lambda: isinstance(app.screen, LaneDetailScreen) and app.screen.is_mounted)
        legend = str(app.screen.query_one("#detail-legend", Static).render())
        assert legend == (
            "H/D = hosted, diffusion model · SIMULATED: modelled latency and skill, real checks"
            " · sim x0.2: latencies at 0.2 of the profile's pace"
        )
        assert app.screen.query_one("#detail-legend").region.height >= 1  # on screen at 80x24


# 24: loopterm's keys, and Ctrl+C twice -------------------------------------------------


async def test_the_palettes_keys_command_lists_loopterms_keys() -> None:
    replay = ReplaySource(script_race(), speed=50.0, hold_at_end=True)
    app = make_app(replay, controls=replay)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.race.done)
        keys = [c for c in app.get_system_commands(app.screen) if c.title == "Keys"]
        assert len(keys) == 1  # ours, not Textual's panel as well
        await pilot.press("ctrl+p")
        await until(pilot, lambda: isinstance(app.screen, Palette))
        await pilot.press(*"keys")
        await palette_found(pilot, "keys")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, KeysScreen))
        rows = dict(app.screen.rows)
    assert rows["q, ^c"].startswith("quit; while a live race runs it asks first")
    assert rows["s"].startswith("the results table") and rows["⏎"].startswith("open the lane")
    assert rows["space"] == "replay: pause or resume" and rows["r"] == "replay: start again"
    assert "←, →, ↑, ↓" in rows and "^p" in rows
    words = " ".join(rows.values()).lower()
    assert "copy selected text" not in words and "focus next" not in words


async def test_the_keys_of_the_lane_detail_are_its_own() -> None:
    app, source = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app, source)
        app.action_open_lane("fast")
        await until(pilot, lambda: isinstance(app.screen, LaneDetailScreen) and app.screen.is_mounted)
        await pilot.press("f1")
        await until(pilot, lambda: isinstance(app.screen, KeysScreen))
        rows = dict(app.screen.rows)
        assert rows["esc"] == "back to the race" and rows["1"].startswith("the Candidate tab")
        assert "space" not in rows  # not a replay
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, LaneDetailScreen))


async def test_a_second_ctrl_c_at_the_quit_question_quits() -> None:
    app, source = app_for(script_race(), hold_at=10)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: source.sent == 10)
        await pilot.press("ctrl+c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmQuit))
        await pilot.press("ctrl+c")
        await until(pilot, source.finished.is_set)  # the race was stopped, not left running
        await until(pilot, lambda: app.return_value is not None)
        assert app.return_value == EXIT_QUIT_LIVE
