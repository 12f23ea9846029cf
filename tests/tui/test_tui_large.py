"""A large terminal is used: full-width bars, a taller score history, named changes, a wider results table."""

from __future__ import annotations

import pytest
from support.tui_pilot import app_for, finished, panes
from support.tui_script import CHECK_IDS, LANES, LanePlan, Outcome, fold, script_race
from textual.widgets import DataTable

from loopterm.stats.runs import summarize
from loopterm.stats.table import result_rows
from loopterm.tui.glyphs import ASCII, UNICODE
from loopterm.tui.panetext import full_lines, plain_style
from loopterm.tui.screens.summary import EXTRA_COLUMNS, SummaryScreen

pytestmark = pytest.mark.anyio


def plain(lines: list) -> list[str]:
    return [line.plain for line in lines]


def two_turn_pass() -> tuple:
    plan = LanePlan(
        LANES[0], [["logic.rounding_half_up", "shape.success_json", "state.approve_twice_409"], []], Outcome.PASS
    )
    state = fold(script_race([plan]))
    return state.lanes["fast"], state


@pytest.mark.parametrize("width", [40, 96, 150])
def test_the_score_bar_is_as_wide_as_the_pane(width: int) -> None:
    lane, state = two_turn_pass()
    bar = plain(full_lines(lane, state, 3.0, width, 22, UNICODE, plain_style))[2]
    assert bar == "█" * (width - len(" 8/8 100%")) + " 8/8 100%"


def test_free_rows_grow_the_score_history_into_a_labelled_chart() -> None:
    lane, state = two_turn_pass()
    lines = plain(full_lines(lane, state, 3.0, 96, 22, UNICODE, plain_style))
    chart = [line for line in lines if "│" in line[:6]]
    assert len(chart) >= 6  # the rows nothing else needed
    assert chart[0].startswith("100% │") and chart[-1].startswith(" 60% │")  # zoomed to 5/8 = 62%
    assert chart[-1].endswith("PASS  +3 fixed")  # the last turn's change at its foot
    assert chart[0][6:].rstrip() == "    ███"  # turn 2 alone reaches the top
    assert chart[-1][6:9].strip() and not any(row[6:9].strip() for row in chart[:-1])  # turn 1: at the foot
    assert len(lines) >= 20  # at most two rows of 22 left blank
    # Short of rows it is the one-row sparkline again.
    short = plain(full_lines(lane, state, 3.0, 96, 5, UNICODE, plain_style))
    assert short[4].startswith("▅█  PASS")


def test_a_tall_history_is_plain_ascii_under_ascii_glyphs() -> None:
    lane, state = two_turn_pass()
    lines = plain(full_lines(lane, state, 3.0, 60, 14, ASCII, plain_style))
    assert all(line.isascii() for line in lines)
    assert any(line.startswith("100% |") for line in lines)


def test_turn_rows_name_the_checks_fixed_and_broken_over_free_rows() -> None:
    plan = LanePlan(LANES[3], [CHECK_IDS[:6], CHECK_IDS[:4], CHECK_IDS[1:4]], Outcome.THRASH)
    state = fold(script_race([plan]))
    lane = state.lanes["weak"]
    lines = plain(full_lines(lane, state, 9.0, 96, 22, UNICODE, plain_style))
    row = next(i for i, line in enumerate(lines) if line.startswith("   2 PARTIAL"))
    assert "+2 +logic.line_discount_at" in lines[row]
    assert lines[row + 1].strip() == "+robustness.malformed_json_400"  # under the first name
    assert lines[row + 1].index("+") == lines[row].index("+logic")
    third = next(line for line in lines if line.startswith("   3 "))
    assert "+1 +shape.success_json" in third
    narrow = plain(full_lines(lane, state, 9.0, 70, 22, UNICODE, plain_style))
    assert not any("+logic" in line for line in narrow)  # counts only in a narrower pane


async def test_a_large_screen_leaves_no_block_of_empty_rows_in_finished_panes() -> None:
    app, source = app_for()
    async with app.run_test(size=(200, 50)) as pilot:
        await finished(pilot, app, source)
        for pane in panes(app).values():
            assert pane.size.height >= 20
            assert len(pane.lines) >= pane.size.height - 4, (pane.run_id, pane.lines)


async def test_the_summary_uses_the_width() -> None:
    app, source = app_for()
    async with app.run_test(size=(200, 50)) as pilot:
        await finished(pilot, app, source)
        await pilot.press("s")
        assert isinstance(app.screen, SummaryScreen)
        await pilot.pause()
        table = app.screen.query_one("#results", DataTable)
        assert [str(column.key.value) for column in table.columns.values()][-len(EXTRA_COLUMNS) :] == list(
            EXTRA_COLUMNS
        )
        plain_rows = result_rows(summarize(app.events))
        rows = [[str(cell).strip() for cell in table.get_row_at(i)] for i in range(table.row_count)]
        assert [tuple(row[:9]) for row in rows] == plain_rows  # the plain table's columns first
        assert rows[0][9:] == ["100%", "0.3 s", "0.2 s", "0", "passed on turn 2"]
        assert rows[3][-1] == "no new best score in 3 turns"
        assert table.virtual_size.width > 150  # spread over the width, not 74 columns at the left
        await pilot.resize_terminal(80, 24)
        await pilot.pause()
        assert [str(column.key.value) for column in table.columns.values()][-1] == "Cost"
        assert table.virtual_size.width <= 78
