"""A screen is complete in its first frame: its footer holds its keys, and its candidate costs what is on screen.

Nothing here is timed (a busy machine would break it): the tests check that
nothing is left for after the first paint, and that the work before it does
not grow with the candidate's length.
"""

from __future__ import annotations

import pytest
from support.tui_pilot import app_for, finished
from support.tui_script import LANES, LanePlan, Outcome, script_race
from textual.widgets._footer import FooterKey

from loopterm.events import ValidationDone
from loopterm.tui.footer import FooterEntry, KeysFooter, fit_footer
from loopterm.tui.screens.chart import ChartScreen
from loopterm.tui.screens.lane_detail import LaneDetailScreen
from loopterm.tui.screens.summary import SummaryScreen
from loopterm.tui.widgets.code_view import CodeView

pytestmark = pytest.mark.anyio


def keys_of(screen) -> list[str]:
    return [key.key_display for key in screen.query(FooterKey)]


async def test_the_lane_detail_footer_holds_its_keys_before_the_first_paint() -> None:
    app, source = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app, source)
        screen = LaneDetailScreen(app.race, "fast")
        await app.push_screen(screen)
        # Mounted, not yet painted: the keys are there already, not left for a later recompose.
        assert keys_of(screen)[:2] == ["esc", "1-3"] and "q" in keys_of(screen)


@pytest.mark.parametrize(
    "make",
    [lambda app: SummaryScreen(app.race, lambda: app.events), lambda app: ChartScreen(app.race, app.now, app.glyphs)],
)
async def test_every_screen_footer_holds_its_keys_before_the_first_paint(make) -> None:
    app, source = app_for()
    async with app.run_test(size=(80, 24)) as pilot:
        await finished(pilot, app, source)
        screen = make(app)
        await app.push_screen(screen)
        assert keys_of(screen)[0] == "esc" and "q" in keys_of(screen)


def long_race(lines: int) -> list:
    """A one-lane race whose last candidate is ``lines`` lines long."""
    events = script_race([LanePlan(LANES[0], [["shape.success_json"], []], Outcome.PASS)])
    last = [e for e in events if isinstance(e, ValidationDone)][-1]
    last.code = "".join(f"value_{n} = {n}  # a line of the candidate\n" for n in range(lines))
    return events


async def test_opening_a_long_candidate_highlights_only_what_is_on_screen() -> None:
    app, source = app_for(long_race(3000))
    async with app.run_test(size=(80, 24)) as pilot:
        await source.finished.wait()
        await pilot.pause()
        app.action_open_lane("fast")
        await pilot.pause()
        view = app.screen.query_one(CodeView)
        assert view.code.startswith("value_0 = 0") and view.virtual_size.height >= 3000
        assert view.numbered
        lexed = len(view.highlighted_lines)
        assert 0 < lexed <= view.size.height + 1  # the first screenful, not the 3,000 lines
        view.scroll_end(animate=False)
        await pilot.pause()
        assert len(view.highlighted_lines) == 3001  # scrolling reads on to the end (and the empty last line)


def test_the_footer_takes_its_fullest_form_that_fits() -> None:
    keys = [
        FooterEntry("q", "Quit", "quit"),
        FooterEntry("p", "Screenshot", "screenshot"),
        FooterEntry("space", "Pause", "replay.pause"),
    ]
    palette = FooterEntry("^p", "palette")
    full = 3 * 3 + 1 + 4 + 1 + 10 + 5 + 5 + (2 + 7 + 2 + 1 + 1)  # padded keys, the hint with its border
    assert fit_footer(keys, full, palette) == fit_footer(keys, 200, palette)
    assert not fit_footer(keys, 200, palette).compact and fit_footer(keys, 200, palette).palette
    assert fit_footer(keys, full - 1, palette).compact
    compact = fit_footer(keys, 44, palette)  # 32 for the keys, 12 for the hint
    assert compact.compact and compact.palette
    bare = fit_footer(keys, 43, palette)
    assert bare.compact and not bare.palette and not bare.dropped
    assert fit_footer(keys, 20, palette).dropped == {"screenshot"}  # the palette still lists it


async def test_the_replay_footer_uses_the_width() -> None:
    class Controls:
        speed, paused = 1.0, False

        def toggle_pause(self) -> None: ...
        def faster(self) -> None: ...
        def slower(self) -> None: ...
        def jump_to_end(self) -> None: ...
        def restart(self) -> None: ...

    app, source = app_for(controls=Controls())
    async with app.run_test(size=(200, 50)) as pilot:
        await finished(pilot, app, source)
        footer = app.screen.query_one(KeysFooter)
        assert not footer.compact
        assert {"p", "^p", "space", "+/-", "e", "r"} <= set(keys_of(app.screen))
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert footer.compact and "p" not in keys_of(app.screen) and "^p" not in keys_of(app.screen)
        assert {"space", "+/-", "e", "r", "q"} <= set(keys_of(app.screen))
        keys = list(app.screen.query(FooterKey))
        assert keys[-1].region.right <= 80  # every key shown is on screen
