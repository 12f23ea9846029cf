"""News reaches the screen promptly: an event repaints what shows it, not the next 10 Hz tick.

The ticks are turned off here (an hour apart), so only the prompt repaint can
put an event on screen; the tests await it rather than sleep.
"""

from __future__ import annotations

import asyncio

import pytest
from support.bench_events import BENCH_RUNS, race
from support.tui_pilot import app_for, panes, until
from support.tui_script import ScriptedSource, script_race

from loopterm.events import GenerationProgress, LaneDone, ValidationDone
from loopterm.tui import app as app_module
from loopterm.tui.glyphs import UNICODE
from loopterm.tui.screens import bench_summary, lane_detail, summary
from loopterm.tui.screens.bench_summary import BenchSummaryScreen, make_bench_app
from loopterm.tui.widgets.bench_table import BenchTable

pytestmark = pytest.mark.anyio

HOUR = 3600.0


@pytest.fixture
def no_ticks(monkeypatch: pytest.MonkeyPatch) -> None:
    for module, name in (
        (app_module, "TICK_S"),
        (summary, "REFRESH_S"),
        (lane_detail, "REFRESH_S"),
        (bench_summary, "REFRESH_S"),
    ):
        monkeypatch.setattr(module, name, HOUR)


def first(events, kind, lane: str) -> int:
    return next(i for i, e in enumerate(events) if isinstance(e, kind) and e.lane == lane)


async def test_a_turn_shows_in_its_pane_as_soon_as_it_arrives(no_ticks: None) -> None:
    events = script_race()
    turn = first(events, ValidationDone, "frontier")  # its first score
    app, source = app_for(events, hold_at=turn)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: source.sent == turn and "frontier" in panes(app))
        frontier = panes(app)["frontier"]
        await until(pilot, lambda: "-/-" in " ".join(frontier.lines))  # no validation yet
        release, source.released = source.released, asyncio.Event()
        source.hold_at = turn + 1  # only the validation arrives, then the race holds again
        release.set()  # no tick will come for an hour
        await until(pilot, lambda: "6/8 75%" in " ".join(frontier.lines))


async def test_the_summary_and_the_lane_detail_follow_news(no_ticks: None) -> None:
    events = script_race()
    done = first(events, LaneDone, "fast")
    app, source = app_for(events, hold_at=done)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: source.sent == done and "fast" in panes(app))
        await pilot.press("s")
        table = app.screen.query_one("#results")
        await until(pilot, lambda: table.row_count == 4)
        assert "PASS" not in " ".join(str(c) for c in table.get_row_at(0))
        source.hold_at = None
        source.released.set()
        await until(pilot, lambda: "PASS" in " ".join(str(c) for c in table.get_row_at(0)))


async def test_a_burst_of_events_costs_one_repaint(no_ticks: None, monkeypatch: pytest.MonkeyPatch) -> None:
    app, source = app_for(script_race())
    shown: list[set] = []
    original = app_module.LooptermApp._show_news

    def counting(self) -> None:
        shown.append(set(self._news))
        original(self)

    monkeypatch.setattr(app_module.LooptermApp, "_show_news", counting)
    async with app.run_test(size=(80, 24)) as pilot:
        await source.finished.wait()
        await until(pilot, lambda: not app._news_due)
        assert 0 < len(shown) < len(source.events) / 2  # coalesced, not one repaint per event
        assert set().union(*shown) >= {"fast", "frontier", "mini", "weak"}


async def test_the_bench_summary_follows_news(no_ticks: None) -> None:
    app = make_bench_app(ScriptedSource(race(BENCH_RUNS), live=False), glyphs=UNICODE)
    async with app.run_test(size=(120, 48)) as pilot:
        screen = app.screen
        assert isinstance(screen, BenchSummaryScreen)
        await until(pilot, lambda: [c[0] for c in screen.query_one(BenchTable).cells] == ["Lane A (sim)", "B (sim)"])
        await until(pilot, lambda: str(screen.query_one("#bench-progress").render()).endswith("finished"))


async def test_streaming_news_leaves_the_summary_table_and_its_cursor_alone(no_ticks: None) -> None:
    events = script_race(done=False)
    app, source = app_for(events, hold_at=len(events) - 1)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: source.sent == len(events) - 1 and "fast" in panes(app))
        await pilot.press("s")
        table = app.screen.query_one("#results")
        await until(pilot, lambda: table.row_count == 4)
        await pilot.press("down", "down")
        assert table.cursor_row == 2
        version = app.race.version
        for n in range(5):  # tokens stream in: the race state changes, no cell of the table does
            app._on_event(GenerationProgress(t=9.0 + n, lane="weak", turn=4, chars=100 * n, tokens=10 * n))
        await until(pilot, lambda: app.screen._rows is not None and not app._news_due and app.race.version > version)
        await pilot.pause()
        assert table.cursor_row == 2
