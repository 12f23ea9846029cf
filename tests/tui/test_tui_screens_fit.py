"""The viewer's screens at 80 columns, an ERROR lane in depth, focus, the palette, and ASCII mode."""

from __future__ import annotations

import pytest
from support.tui_pilot import app_for, finished, palette_found, panes, until
from support.tui_script import LANES, LanePlan, Outcome, lane_info, script_race
from textual.command import SearchIcon
from textual.widgets import DataTable, Static
from textual.widgets._footer import FooterKey

from loopterm.traces.replay import ReplaySource
from loopterm.tui.app import make_app
from loopterm.tui.glyphs import ASCII
from loopterm.tui.screens.lane_detail import LaneDetailScreen
from loopterm.tui.widgets.race_header import RaceHeader

pytestmark = pytest.mark.anyio

REASON = "cannot reach http://127.0.0.1:11434: is the server running? Start it with `ollama serve`"


def error_race() -> list:
    """Fast passes; Frontier's first generation fails (its reason starts with its own name, as providers say)."""
    plans = [
        LanePlan(LANES[0], [["logic.rounding_half_up"], []], Outcome.PASS, turn_s=0.5),
        LanePlan(LANES[1], [["x"]], Outcome.ERROR, reason=f"{LANES[1].name}: {REASON}", error_on_turn=1),
    ]
    return script_race(plans)


def screen_text(app) -> list[str]:
    """The screen's lines as the terminal gets them (widgets apply the app's line filters as they draw)."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def footer_keys(app) -> dict[str, FooterKey]:
    return {key.key_display: key for key in app.screen.query(FooterKey)}


async def test_an_error_lanes_detail_shows_its_reason_and_no_made_up_figures() -> None:
    app, source = app_for(error_race())
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app, source)
        app.action_open_lane("frontier")
        await until(pilot, lambda: isinstance(app.screen, LaneDetailScreen) and app.screen.is_mounted)
        await pilot.pause()
        screen = app.screen
        title = str(screen.query_one("#detail-title", Static).render())
        assert title.startswith("Frontier (sim)  ·  ERROR  ·  frontier") and "…" not in title
        reason = str(screen.query_one("#detail-reason", Static).render())
        assert reason.replace("\n", " ") == f"ERROR: {REASON}"  # whole, and the name not repeated
        feedback = str(screen.query_one("#feedback", Static).render())
        assert "the lane ended before any candidate was validated" in feedback and REASON[:20] in feedback
        assert "has not finished" not in feedback
        history = screen.query_one("#history", DataTable)
        row = dict(zip([str(c.label) for c in history.columns.values()], history.get_row_at(0), strict=True))
        assert row["Status"] == "ERROR" and row["Score"] == "—"  # never validated
        assert row.get("Valid.", "—") == "—"  # (if it fits at 80 columns)
        assert row["Fixed"] == "—" and row["Broke"] == "—"
        await pilot.press("s")
        caption = str(app.screen.query_one("#summary-caption", Static).render())
        assert caption.startswith(f"Frontier (sim): {REASON[:20]}") and caption.count("Frontier (sim)") == 1


async def test_an_error_lanes_pane_wraps_its_reason_without_its_name() -> None:
    app, source = app_for(error_race())
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app, source)
        lines = panes(app)["frontier"].lines
        assert lines[3] == "ERROR: cannot reach"
        assert " ".join(lines[3:]).startswith(f"ERROR: {REASON}"[:60])
        assert not any(line == "" for line in lines[:6])  # the reason used the rows, none left blank above it


async def test_focus_keeps_the_outcome_colour_and_changes_the_shape() -> None:
    app, source = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app, source)
        fast = panes(app)["fast"]  # passed
        fast.focus()
        await pilot.pause()
        focused_type, focused_colour = fast.styles.border_top
        panes(app)["mini"].focus()
        await pilot.pause()
        plain_type, plain_colour = fast.styles.border_top
        assert (focused_type, plain_type) == ("heavy", "round")
        assert focused_colour == plain_colour  # still the PASS colour


async def test_a_focused_compact_row_draws_a_line_not_a_block() -> None:
    infos = [lane_info(f"l{i}", f"Lane {i}", f"model-{i}", "H/AR") for i in range(8)]
    plans = [LanePlan(info, [["logic.rounding_half_up"], []], Outcome.PASS) for info in infos]
    app, source = app_for(script_race(plans))
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app, source)
        rows = list(panes(app).values())
        rows[1].focus()
        await pilot.pause()
        assert rows[1].styles.border_left[0] == "heavy"  # "thick" merged with the score bar
        assert rows[1].styles.border_top[0] in ("", "none")  # still one row of lines, no box
        assert rows[1].styles.border_left[1] == rows[2].styles.border_left[1]  # the outcome colour
        assert rows[2].styles.border_left[0] == "outer"


async def test_the_palette_offers_no_maximize_and_a_plain_prompt() -> None:
    app, source = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app, source)
        panes(app)["fast"].focus()
        await pilot.pause()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Maximize" not in titles and "Open lane: Fast diffusion (sim)" in titles
        assert not panes(app)["fast"].allow_maximize
        await pilot.press("ctrl+p")
        await until(pilot, lambda: bool(app.screen.query(SearchIcon)))
        assert app.screen.query_one(SearchIcon).icon == ">"


async def test_every_key_fits_the_footer_at_80_columns() -> None:
    replay = ReplaySource(script_race(), speed=50.0, hold_at_end=True)
    app = make_app(replay, controls=replay)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.race.done)
        await pilot.press("space")
        header = app.screen.query_one(RaceHeader)
        await until(pilot, lambda: "PAUSED" in header.text)
        assert "20260101-120000-abcd  sim x0.2" in header.text  # the id whole, the sim note kept
        for screen_key in (None, "enter", "s", "c"):
            if screen_key == "enter":
                app.action_open_lane("fast")
                await until(pilot, lambda: isinstance(app.screen, LaneDetailScreen))
            elif screen_key:
                await pilot.press(screen_key)
            await pilot.pause()
            keys = footer_keys(app)
            for key in ("q", "s", "c", "space", "+/-", "e", "r"):
                assert key in keys, (screen_key, sorted(keys))
                assert keys[key].region.right <= 80, (screen_key, key, keys[key].region)
    app, source = app_for()
    async with app.run_test(size=(80, 24)) as pilot:  # live: the detail footer ends with the palette hint
        await finished(pilot, app, source)
        app.action_open_lane("fast")
        await until(pilot, lambda: isinstance(app.screen, LaneDetailScreen))
        await pilot.pause()
        keys = footer_keys(app)
        assert "1-3" in keys and all(key.region.right <= 80 for key in keys.values())
        assert screen_text(app)[-1].rstrip().endswith("^p palette")
        assert "c Chart" in screen_text(app)[-1]


async def test_ascii_mode_puts_only_ascii_on_screen() -> None:
    app, source = app_for(error_race(), glyphs=ASCII)
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app, source)
        for step in (None, "detail", "s", "c", "palette"):
            if step == "detail":
                app.action_open_lane("frontier")
                await until(pilot, lambda: isinstance(app.screen, LaneDetailScreen))
            elif step == "palette":
                await pilot.press("ctrl+p")
                await until(pilot, lambda: bool(app.screen.query(SearchIcon)))
            elif step:
                await pilot.press(step)
            await pilot.pause()
            text = screen_text(app)
            bad = sorted({c for line in text for c in line if not c.isascii()})
            assert not bad, (step, bad)
            if step is None:
                assert "enter Open" in text[-1]


async def test_the_theme_picker_has_the_plain_prompt_too_and_switches_the_theme() -> None:
    app, source = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app, source)
        await pilot.press("ctrl+p")
        await until(pilot, lambda: bool(app.screen.query(SearchIcon)))
        for key in "theme":
            await pilot.press(key)
        await palette_found(pilot, "theme")
        await pilot.press("enter")
        await until(
            pilot,
            lambda: (
                bool(app.screen.query(SearchIcon)) and "themes" in str(app.screen.query_one("CommandInput").placeholder)
            ),
        )
        assert app.screen.query_one(SearchIcon).icon == ">"
        for key in "loopterm-contrast":
            await pilot.press(key)
        await palette_found(pilot, "loopterm-contrast")
        await pilot.press("enter")
        await until(pilot, lambda: app.theme == "loopterm-contrast")


async def test_the_header_keeps_the_lane_count_by_dropping_loopterm_first() -> None:
    app, source = app_for()
    async with app.run_test(size=(116, 30)) as pilot:
        await finished(pilot, app, source)
        header = app.screen.query_one(RaceHeader)
        await until(pilot, lambda: "finished" in header.text)
        assert header.text.startswith("quote-approval  race 20260101-120000-abcd")
        assert "4 lanes · max 4 turns · simulated latencies x0.2" in header.text


async def test_the_detail_title_drops_whole_badges_then_ends_in_an_ellipsis() -> None:
    app, source = app_for()
    async with app.run_test(size=(120, 24)) as pilot:
        await finished(pilot, app, source)
        app.action_open_lane("fast")
        await until(pilot, lambda: isinstance(app.screen, LaneDetailScreen))
        await pilot.pause()

        def title() -> str:
            return app.screen.query_one("#detail-title").render_line(0).text.strip()

        outcome = "Fast diffusion (sim)  ·  PASS in 1.1 s after 2 turns (1st)"
        assert title().startswith(outcome) and title().endswith("SIMULATED")
        await pilot.resize_terminal(80, 24)  # SIMULATED goes (the name says "(sim)"), not half a word
        await until(pilot, lambda: title() == f"{outcome}  ·  fast-diffusion")
        await pilot.resize_terminal(60, 24)
        await until(pilot, lambda: title() == outcome)
        await pilot.resize_terminal(40, 24)  # then cut, with an ellipsis, not wrapped out of sight
        await until(pilot, lambda: title().endswith("…") and title().startswith("Fast diffusion (sim)"))


async def test_the_history_table_drops_timing_columns_before_fixed_and_broke_are_cut() -> None:
    from loopterm.tui.screens.lane_detail import HISTORY_COLUMNS

    plans = [
        LanePlan(
            lane_info("slow", "Slow one", "slow-model", "H/AR"),
            [["shape.success_json"], []],
            Outcome.PASS,
            turn_s=14.25,
        )
    ]
    app, source = app_for(script_race(plans))
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app, source)
        app.action_open_lane("slow")
        await until(pilot, lambda: isinstance(app.screen, LaneDetailScreen))
        await pilot.press("3")
        await pilot.pause()
        table = app.screen.query_one("#history", DataTable)
        labels = [str(c.label) for c in table.columns.values()]
        assert labels[-2:] == ["Fixed", "Broke"] and "Harn." not in labels
        assert [c for c in HISTORY_COLUMNS if c in labels] == labels  # the same order, some left out
        assert table.virtual_size.width <= table.size.width  # nothing past the right edge
        assert dict(zip(labels, map(str, table.get_row_at(1)), strict=True))["Fixed"] == "1"
        await pilot.resize_terminal(140, 24)
        await until(pilot, lambda: [str(c.label) for c in table.columns.values()] == list(HISTORY_COLUMNS))


async def test_replay_keys_off_the_race_screen_say_what_they_did() -> None:
    replay = ReplaySource(script_race(), speed=50.0, hold_at_end=True)
    app = make_app(replay, controls=replay)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.race.done)
        await pilot.press("s")  # the summary has no REPLAY badge of its own

        def toasts() -> list[str]:
            return [str(n.message) for n in app._notifications]

        await pilot.press("space")
        await until(pilot, lambda: toasts() == ["REPLAY x50 · PAUSED"])
        await pilot.press("minus", "minus")  # one toast, the latest word
        await until(pilot, lambda: toasts() == ["REPLAY x10 · PAUSED"])
        await pilot.press("escape")
        await pilot.press("space")  # the race screen's header shows it: no toast
        await until(pilot, lambda: not replay.paused)
        await pilot.pause()
        assert toasts() == ["REPLAY x10 · PAUSED"]
