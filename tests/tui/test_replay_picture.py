"""A replay ends on the same picture as the live race, whatever the speed and whatever keys were pressed."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.trace_helpers import write_trace
from support.tui_pilot import app_for, finished, news_shown, panes, until
from support.tui_script import script_race

from loopterm.traces.reader import read_race
from loopterm.traces.replay import ReplaySource
from loopterm.tui.app import make_app
from loopterm.tui.screens.summary import SummaryScreen

pytestmark = pytest.mark.anyio

SIZE = (120, 36)


Picture = tuple[dict[str, list[str]], list[str]]  # every pane's lines, the summary table's rows
_live: list[Picture] = []


async def live_picture() -> Picture:
    """The live race's final picture: the same scripted race for every case, so drawn once."""
    if not _live:
        _live.append(await draw_live_picture())
    return _live[0]


async def draw_live_picture() -> Picture:
    app, source = app_for()
    async with app.run_test(size=SIZE) as pilot:
        await finished(pilot, app, source)
        await news_shown(pilot, app)
        lines = {run_id: list(pane.lines) for run_id, pane in panes(app).items()}
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen))
        await pilot.pause()
        return lines, table_text(app)


def table_text(app) -> list[str]:
    table = app.screen.query_one("#results")
    return [" ".join(str(cell) for cell in table.get_row_at(i)) for i in range(table.row_count)]


@pytest.mark.parametrize(("speed", "keys"), [(50.0, ""), (0.5, "e"), (2.0, "+e"), (50.0, "re"), (10.0, " -e ")])
async def test_the_final_picture_is_the_live_one_at_any_speed(tmp_path: Path, speed: float, keys: str) -> None:
    live_lines, live_table = await live_picture()
    trace = read_race(write_trace(tmp_path, script_race()))
    source = ReplaySource(trace, speed, hold_at_end=True)
    app = make_app(source, controls=source, trace_folder=trace.folder)
    app.animation_level = "none"
    async with app.run_test(size=SIZE) as pilot:
        for key in keys:
            await pilot.press({" ": "space", "+": "plus", "-": "minus"}.get(key, key))
            await pilot.pause(0.05)  # the point: the replay runs on between keys, so each lands at another moment
        await until(pilot, lambda: app.race.done, timeout=10)
        await until(pilot, lambda: {run_id: list(p.lines) for run_id, p in panes(app).items()} == live_lines)
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen))
        await pilot.pause()
        assert table_text(app) == live_table
        await pilot.press("q")
