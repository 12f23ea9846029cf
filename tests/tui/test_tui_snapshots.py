"""SVG snapshots of the viewer at 80x24 and 160x48: a scripted race, a frozen clock.

Update them after a deliberate change with
``.venv/bin/pytest tests/tui/test_tui_snapshots.py --snapshot-update`` and look at
the report before committing.
"""

from __future__ import annotations

from support.tui_pilot import app_for, finished, news_shown, until
from support.tui_script import LanePlan, Outcome, lane_info, script_race
from textual.pilot import Pilot

from loopterm.tui.screens.confirm_quit import ConfirmQuit

SMALL = (80, 24)
LARGE = (160, 48)


def after_race(app, source, *keys: str):
    async def run_before(pilot: Pilot) -> None:
        await finished(pilot, app, source)
        for key in keys:
            await pilot.press(key)
        await pilot.pause()

    return run_before


def test_race_finished_small(snap_compare) -> None:
    app, source = app_for()
    assert snap_compare(app, terminal_size=SMALL, run_before=after_race(app, source))


def test_race_finished_large(snap_compare) -> None:
    app, source = app_for()
    assert snap_compare(app, terminal_size=LARGE, run_before=after_race(app, source))


def test_race_running_small(snap_compare) -> None:
    events = script_race()
    hold = next(i for i, e in enumerate(events) if e.t > 1.65)
    app, source = app_for(events, hold_at=hold)

    async def run_before(pilot: Pilot) -> None:
        await until(pilot, lambda: source.sent == hold)
        await until(pilot, lambda: "turn 2/4" in app.screen.query_one("#lane-1").lines[1])
        await news_shown(pilot, app)  # every pane repainted with all it was sent, at the frozen time

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_eight_lanes_compact_small(snap_compare) -> None:
    infos = [
        lane_info(f"l{i}", f"Lane {i}", f"model-{i}", "L/AR" if i % 2 else "H/D", simulated=i < 4) for i in range(8)
    ]
    failing = ["logic.rounding_half_up", "shape.success_json", "state.approve_twice_409"]
    plans = [
        LanePlan(info, [failing[: 1 + i % 3], []], Outcome.PASS, turn_s=0.5 + i / 10)
        if i % 2
        else LanePlan(info, [failing, failing[1:]], Outcome.TURN_LIMIT, turn_s=0.5 + i / 10)
        for i, info in enumerate(infos)
    ]
    app, source = app_for(script_race(plans, max_turns=2))
    assert snap_compare(app, terminal_size=SMALL, run_before=after_race(app, source))


def test_lane_detail_history_small(snap_compare) -> None:
    app, source = app_for()
    assert snap_compare(app, terminal_size=SMALL, run_before=after_race(app, source, "right", "enter", "3"))


def test_summary_small(snap_compare) -> None:
    app, source = app_for()
    assert snap_compare(app, terminal_size=SMALL, run_before=after_race(app, source, "s"))


def test_chart_large(snap_compare) -> None:
    app, source = app_for()
    assert snap_compare(app, terminal_size=LARGE, run_before=after_race(app, source, "c"))


def test_quit_confirmation_small(snap_compare) -> None:
    app, source = app_for(hold_at=20)

    async def run_before(pilot: Pilot) -> None:
        await until(pilot, lambda: source.sent == 20)
        await pilot.press("q")
        await until(pilot, lambda: isinstance(app.screen, ConfirmQuit))

    assert snap_compare(app, terminal_size=SMALL, run_before=run_before)


def test_contrast_theme_large(snap_compare) -> None:
    app, source = app_for(theme="loopterm-contrast")
    assert snap_compare(app, terminal_size=LARGE, run_before=after_race(app, source))
