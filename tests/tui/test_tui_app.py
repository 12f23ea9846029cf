"""Pilot tests of the race viewer, driven by a scripted, deterministic event stream."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.tui_pilot import app_for, finished, panes, until
from support.tui_script import LANES, LanePlan, Outcome, lane_info, script_race
from textual import events
from textual.widgets import DataTable, Static, TabbedContent

from loopterm.stats.runs import summarize
from loopterm.stats.table import result_rows
from loopterm.tui.app import EXIT_QUIT_LIVE, make_app
from loopterm.tui.screens.chart import ChartScreen
from loopterm.tui.screens.confirm_quit import ConfirmQuit
from loopterm.tui.screens.lane_detail import LaneDetailScreen
from loopterm.tui.screens.race import RaceScreen
from loopterm.tui.screens.summary import SummaryScreen
from loopterm.tui.widgets.code_view import CodeView
from loopterm.tui.widgets.lane_grid import LaneGrid
from loopterm.tui.widgets.lane_pane import LanePane
from loopterm.tui.widgets.race_header import RaceHeader
from loopterm.tui.widgets.score_chart import ScoreChart

pytestmark = pytest.mark.anyio


async def test_panes_show_outcomes_places_and_failing_checks() -> None:
    app, source = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app, source)
        shown = panes(app)
        assert list(shown) == ["fast", "frontier", "mini", "weak"]  # race order
        fast, frontier, mini, weak = shown.values()
        assert fast.lines[1] == "turn 2/4  done"
        assert fast.lines[3] == "PASS in 1.1 s after 2 turns  1st"
        assert fast.border_title == "Fast diffusion (sim)"
        assert fast.border_subtitle == "1st · PASS"
        assert frontier.border_subtitle == "2nd · PASS"
        assert fast.has_class("-pass") and weak.has_class("-thrash") and mini.has_class("-thrash")
        assert mini.lines[3] == "turn limit after 4 turns"
        assert mini.lines[5].startswith("- logic.total_limit_below")
        assert weak.lines[5].startswith("! shape.problem_422_errors")  # broke on the last turn: first
        # At 80 columns the long badge would cut the model's name, so the short one is used.
        assert " SIM  fast-diffusion " in fast.lines[0] and "H/D" in fast.lines[0]
        assert fast.lines[0].endswith("1.1 s")  # frozen at its finish, not the clock's 2.5 s
        header = app.screen.query_one(RaceHeader)
        await until(pilot, lambda: "finished" in header.text)
        assert "quote-approval" in header.text and "20260101-120000-abcd" in header.text
        assert header.text.endswith("finished   4.9 s")


async def test_a_running_race_shows_phases_and_the_live_clock() -> None:
    events = script_race()
    hold = next(i for i, e in enumerate(events) if e.t > 0.55)
    app, source = app_for(events, hold_at=hold)
    async with app.run_test(size=(160, 48)) as pilot:
        await until(pilot, lambda: source.sent == hold and app.race.version == hold)
        shown = panes(app)
        expected = {
            "mini": "turn 1/4  generating 500 tok 2000 tok/s",
            "frontier": "turn 1/4  generating 100 tok",
            "fast": "turn 1/4  validating 2.1 s",  # since its generation ended at 0.4 s
        }
        await until(pilot, lambda: all(shown[k].lines[1:2] == [v] for k, v in expected.items()))
        assert shown["fast"].lines[0].endswith("2.5 s")  # the injected clock, ticking lanes
        assert shown["fast"].lines[2].endswith("-/-")  # no score before the first validation
        header = app.screen.query_one(RaceHeader)
        assert header.text.endswith("running    2.5 s")
        assert "simulated latencies x0.2" in header.text
        assert not app.race.done
        source.released.set()
        await finished(pilot, app, source)


async def test_layouts_for_eight_lanes_small_and_large() -> None:
    infos = [lane_info(f"l{i}", f"Lane {i}", f"model-{i}", "H/AR") for i in range(8)]
    plans = [
        LanePlan(info, [["logic.rounding_half_up"], []], Outcome.PASS, turn_s=0.5 + i / 10)
        for i, info in enumerate(infos)
    ]
    app, source = app_for(script_race(plans))
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app, source)
        grid = app.screen.query_one(LaneGrid)
        assert grid.layout_now.compact
        rows = list(panes(app).values())
        assert len(rows) == 8 and all(p.compact and p.size.height >= 2 for p in rows)
        assert all(p.region.bottom <= 23 for p in rows)  # every lane visible above the footer
        assert rows[0].lines[0].startswith("Lane 0  H/AR   SIM ")
        assert rows[0].lines[1].endswith("PASS in 1.1 s after 2 turns  1st")
        await pilot.resize_terminal(160, 48)
        await until(pilot, lambda: not grid.layout_now.compact)
        assert (grid.layout_now.columns, grid.layout_now.rows) == (2, 4)
        assert all(not p.compact for p in panes(app).values())


async def test_enter_and_click_open_the_lane_detail_and_escape_returns() -> None:
    app, source = app_for()
    async with app.run_test(size=(100, 30)) as pilot:
        await finished(pilot, app, source)
        assert isinstance(app.focused, LanePane) and app.focused.run_id == "fast"
        await pilot.press("enter")
        assert isinstance(app.screen, LaneDetailScreen) and app.screen.run_id == "fast"
        title = str(app.screen.query_one("#detail-title", Static).content)
        assert "Fast diffusion (sim)" in title and "PASS in 1.1 s after 2 turns (1st)" in title
        code = app.screen.query_one(CodeView)
        assert code.numbered and code.code.startswith("# turn 2 of fast")
        await pilot.press("2")
        assert app.screen.query_one(TabbedContent).active == "tab-feedback"
        feedback = str(app.screen.query_one("#feedback", Static).content)
        assert "the lane ended here, so this was not sent" in feedback
        assert "Sent back after turn 1 (the prompt of turn 2)" in feedback
        assert "Fix: logic.rounding_half_up, shape.success_json" in feedback
        await pilot.press("3")
        table = app.screen.query_one("#history", DataTable)
        assert table.row_count == 2
        assert [str(c) for c in table.get_row_at(1)][:3] == ["2", "PASS", "8/8 100%"]
        assert [str(c.label) for c in table.columns.values()][5] == "Valid."
        assert [str(c) for c in table.get_row_at(0)][3:5] == ["100 ms", "300 ms"]  # ttft, model
        await pilot.press("escape")
        assert isinstance(app.screen, RaceScreen)
        await pilot.click("#lane-3")
        assert isinstance(app.screen, LaneDetailScreen) and app.screen.run_id == "weak"


async def test_arrow_keys_and_tab_move_between_panes() -> None:
    app, source = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app, source)

        def focused() -> str:
            assert isinstance(app.focused, LanePane)
            return app.focused.run_id

        assert focused() == "fast"
        await pilot.press("right")
        assert focused() == "frontier"
        await pilot.press("down")
        assert focused() == "weak"
        await pilot.press("left")
        assert focused() == "mini"
        await pilot.press("up")
        assert focused() == "fast"
        await pilot.press("tab")
        assert focused() == "frontier"
        await pilot.press("left", "left")  # stops at the edge
        assert focused() == "fast"


async def test_keys_typed_in_a_burst_each_move_on() -> None:
    app, source = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app, source)
        await pilot.press("c")
        for key in ("escape", "down", "right"):  # all queued before the app handles any
            app.post_message(events.Key(key, None))
        await until(pilot, lambda: isinstance(app.screen, RaceScreen))
        await pilot.pause()
        assert isinstance(app.focused, LanePane) and app.focused.run_id == "weak"


async def test_summary_screen_shows_the_plain_results_table() -> None:
    app, source = app_for()
    async with app.run_test(size=(100, 30)) as pilot:
        await finished(pilot, app, source)
        await pilot.press("s")
        assert isinstance(app.screen, SummaryScreen)
        table = app.screen.query_one("#results", DataTable)
        rows = [tuple(str(cell).strip() for cell in table.get_row_at(i))[:9] for i in range(table.row_count)]
        assert rows == result_rows(summarize(app.events))  # then what 100 columns add (Score...)
        assert [r[:4] for r in rows] == [
            ("1st", "Fast diffusion (sim)", "H/D", "PASS"),
            ("2nd", "Frontier (sim)", "H/AR", "PASS"),
            ("-", "Mini (sim)", "H/AR", "turn limit"),
            ("-", "Weak local (sim)", "L/AR", "THRASH"),
        ]
        assert "(final)" in str(app.screen.query_one("#summary-title", Static).content)
        await pilot.press("s")  # already there: stays, no second copy
        assert len(app.screen_stack) == 2
        await pilot.press("c")  # another screen replaces it
        assert isinstance(app.screen, ChartScreen) and len(app.screen_stack) == 2
        await pilot.press("escape")
        assert isinstance(app.screen, RaceScreen)


async def test_chart_plots_every_lane_with_a_legend() -> None:
    app, source = app_for()
    async with app.run_test(size=(120, 40)) as pilot:
        await finished(pilot, app, source)
        await pilot.press("c")
        chart = app.screen.query_one(ScoreChart)
        await until(pilot, lambda: bool(chart.rows))
        drawn = "\n".join(chart.rows)
        for letter in "ABCD":
            assert letter in drawn
        assert drawn.count("A") == 2 and drawn.count("D") == 4  # one letter per finished turn
        assert chart.rows[-1].strip().endswith("4.9 s")  # the race's end on the time axis
        legend = str(app.screen.query_one("#chart-legend", Static).content)
        assert "A  Fast diffusion (sim): PASS in 1.1 s after 2 turns (1st)" in legend
        assert "D  Weak local (sim): THRASH after 4 turns" in legend


async def test_screenshot_goes_to_the_trace_folder(tmp_path: Path) -> None:
    app, source = app_for(trace_folder=tmp_path / "race-1")
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app, source)
        await pilot.press("p")
        shot = tmp_path / "race-1" / "screenshot-20260101-120000-abcd-01.svg"
        assert shot.is_file()
        assert shot.read_text(encoding="utf-8").startswith("<svg")
        assert app.notices[-1] == f"screenshot saved: {shot}"


async def test_a_screenshot_never_overwrites_one_already_in_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "race-1"
    folder.mkdir()
    earlier = folder / "screenshot-20260101-120000-abcd-01.svg"
    earlier.write_text("<svg>taken during the live race</svg>", encoding="utf-8")
    app, source = app_for(trace_folder=folder)  # a replay of that race
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app, source)
        await pilot.press("p")
        await pilot.press("p")
    assert earlier.read_text(encoding="utf-8") == "<svg>taken during the live race</svg>"
    assert sorted(p.name for p in folder.iterdir()) == [f"screenshot-20260101-120000-abcd-0{n}.svg" for n in (1, 2, 3)]


async def test_screenshot_falls_back_to_the_sources_trace_root(tmp_path: Path) -> None:
    app, source = app_for()
    source.trace_root = tmp_path  # type: ignore[attr-defined]  # as LiveRace has
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app, source)
        assert app.screenshot_folder() == tmp_path / "20260101-120000-abcd"


async def test_quitting_a_live_race_asks_first_and_stops_the_source() -> None:
    events = script_race()
    app, source = app_for(events, hold_at=10)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: source.sent == 10)
        await pilot.press("q")
        assert isinstance(app.screen, ConfirmQuit)
        await pilot.press("n")
        assert isinstance(app.screen, RaceScreen) and app.race_running
        await pilot.press("q")
        await pilot.press("y")
        await source.finished.wait()  # the source was cancelled, not left running
        await until(pilot, lambda: app.return_value is not None)
        assert source.sent == 10
        assert app.return_value == EXIT_QUIT_LIVE


async def test_quitting_after_the_race_needs_no_confirmation() -> None:
    app, source = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app, source)
        await pilot.press("q")
        await until(pilot, lambda: app.return_value is not None)
        assert app.return_value == 0


async def test_a_failing_source_is_reported_not_a_crash() -> None:
    class Broken:
        live = True

        async def run(self, sink) -> None:
            raise RuntimeError("sandbox would not start")

    app = make_app(Broken(), now=lambda: 0.0)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.source_error is not None)
        assert app.notices == ["the race stopped with an error: RuntimeError: sandbox would not start"]
        await pilot.press("q")  # nothing is running any more: no question
        await until(pilot, lambda: app.return_value is not None)
        assert app.return_value == 1


async def test_theme_by_name_unknown_names_fall_back_with_a_notice() -> None:
    app, _ = app_for(theme="loopterm-contrast")
    async with app.run_test(size=(80, 24)):
        assert app.theme == "loopterm-contrast"
        assert app.get_css_variables()["lt-pane-focus"] == "#FFFF00"
    app, _ = app_for(theme="no-such-theme")
    async with app.run_test(size=(80, 24)):
        assert app.theme == "loopterm-dark"
        assert app.notices and app.notices[0].startswith("unknown theme 'no-such-theme'; using loopterm-dark")
        assert "loopterm-light" in app.notices[0]


async def test_user_theme_files_load_and_bad_ones_are_named(tmp_path: Path, monkeypatch) -> None:
    themes = tmp_path / "config" / "themes"
    themes.mkdir(parents=True)
    (themes / "mine.toml").write_text('name = "mine"\nprimary = "#ff8800"\n[variables]\nlt-pass = "#00ff00"\n')
    (themes / "broken.toml").write_text('name = "broken"\nprimary = "not a colour"\n')
    monkeypatch.setenv("LOOPTERM_CONFIG_DIR", str(tmp_path / "config"))
    app, _ = app_for(theme="mine")
    async with app.run_test(size=(80, 24)):
        assert app.theme == "mine"
        variables = app.get_css_variables()
        assert variables["lt-pass"] == "#00ff00"
        assert "lt-lane-3" in variables  # derived: the file did not define it
        assert len(app.notices) == 1
        assert "broken.toml" in app.notices[0] and "is not a colour" in app.notices[0]


async def test_switching_to_a_textual_theme_keeps_app_colours() -> None:
    app, source = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app, source)
        app.theme = "nord"
        await pilot.pause()
        assert app.get_css_variables()["lt-pass"]  # derived from nord's own colours
        app.theme = "loopterm-light"
        await pilot.pause()
        assert app.get_css_variables()["lt-pass"] == "#1E7B34"


async def test_command_palette_offers_the_viewer_actions() -> None:
    app, source = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app, source)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in ("Theme", "Summary", "Chart", "Screenshot", "Quit", "Open lane: Mini (sim)"):
            assert title in titles
        assert titles.count("Quit") == 1 and titles.count("Screenshot") == 1
        assert not any(t.startswith("Replay") for t in titles)  # not a replay
        opener = next(c for c in app.get_system_commands(app.screen) if c.title == "Open lane: Mini (sim)")
        opener.callback()
        await pilot.pause()
        assert isinstance(app.screen, LaneDetailScreen) and app.screen.run_id == "mini"


async def test_bindings_have_ids_so_they_can_be_remapped() -> None:
    app, source = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app, source)
        app.set_keymap({"summary": "f2"})
        await pilot.press("f2")
        assert isinstance(app.screen, SummaryScreen)


async def test_no_color_keeps_every_signal_in_words(monkeypatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    app, source = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app, source)
        assert app.no_color
        fast = panes(app)["fast"]
        assert " SIM " in fast.lines[0] and "PASS in" in fast.lines[3] and "1st" in fast.lines[3]


async def test_replay_controls_badge_and_keys() -> None:
    from loopterm.traces.replay import ReplaySource

    events = script_race()
    replay = ReplaySource(events, speed=50.0, hold_at_end=True)
    app = make_app(replay, controls=replay)
    async with app.run_test(size=(100, 24)) as pilot:
        header = app.screen.query_one(RaceHeader)
        await until(pilot, lambda: app.race.done)
        await until(pilot, lambda: "REPLAY x50" in header.text)
        await pilot.press("minus")
        assert replay.speed == 20.0
        await pilot.press("plus")
        assert replay.speed == 50.0
        await pilot.press("space")
        assert replay.paused
        await until(pilot, lambda: "PAUSED" in header.text)
        await pilot.press("space")
        commands = {c.title: c for c in app.get_system_commands(app.screen) if c.title.startswith("Replay: ")}
        assert sorted(commands) == [
            "Replay: faster",
            "Replay: jump to the end",
            "Replay: pause or resume",
            "Replay: restart",
            "Replay: slower",
        ]
        commands["Replay: slower"].callback()
        assert replay.speed == 20.0
        commands["Replay: faster"].callback()
        assert replay.speed == 50.0
        final = app.race.lanes["weak"].outcome
        await pilot.press("r")  # restart: the replay sends race_started again and the state resets
        await until(pilot, lambda: app.race.generation == 2)
        await pilot.press("e")  # jump to the end
        await until(pilot, lambda: app.race.done)
        assert app.race.lanes["weak"].outcome == final
        await pilot.press("q")  # a replay quits without asking
        await until(pilot, lambda: app.return_value is not None)
        assert app.return_value == 0


async def test_replay_keys_do_nothing_without_controls() -> None:
    app, source = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app, source)
        assert app.check_action("replay", ("toggle_pause",)) is False
        assert "REPLAY" not in app.screen.query_one(RaceHeader).text
        await pilot.press("space", "e", "r")
        assert app.race.done and app.race.generation == 1


async def test_restart_rebuilds_panes_for_a_different_lane_set() -> None:
    events = [*script_race(), *script_race([LanePlan(LANES[0], [[]], Outcome.PASS)], race_id="second")]
    app, source = app_for(events)
    async with app.run_test(size=(80, 24)) as pilot:
        await source.finished.wait()
        await until(pilot, lambda: list(panes(app)) == ["fast"])
        await until(pilot, lambda: "PASS in 1.1 s after 1 turn  1st" in panes(app)["fast"].lines)
        assert app.race.race_id == "second"
        await until(pilot, lambda: isinstance(app.focused, LanePane))  # focus follows the new panes
