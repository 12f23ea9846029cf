"""The candidate's view: highlighting read lazily, numbering kept, long lines folded between words."""

from __future__ import annotations

import pytest
from rich.syntax import Syntax
from support.tui_pilot import app_for, finished

from loopterm.tui.widgets.code_view import CodeView, LazyHighlight, fold_points

pytestmark = pytest.mark.anyio

SOURCE = '\n\nimport os\n\n\ndef f(x: int) -> str:\n    """A docstring\n    over two lines."""\n    return f"{x}"\n'


def test_highlighting_keeps_every_line_and_its_number() -> None:
    lines = LazyHighlight(SOURCE, Syntax.get_theme("ansi_dark"))
    assert len(lines) == SOURCE.count("\n") + 1
    assert [lines.line(n).plain for n in range(len(lines))] == SOURCE.split("\n")  # leading blank lines too
    assert any(span.style for span in lines.line(2).spans)  # "import" is coloured


def test_highlighting_reads_only_as_far_as_asked() -> None:
    source = "x = 1\n" * 500
    lines = LazyHighlight(source, Syntax.get_theme("ansi_dark"))
    assert lines.line(9).plain == "x = 1"
    assert 10 <= len(lines.lines) < 20
    assert lines.line(499).plain == "x = 1" and len(lines.lines) >= 500


def test_a_message_is_not_highlighted() -> None:
    lines = LazyHighlight("No candidate yet.", None)
    assert lines.line(0).plain == "No candidate yet." and not lines.line(0).spans


@pytest.mark.parametrize(
    ("text", "width", "rows"),
    [
        ("short", 10, ["short"]),
        ("one two three four five", 10, ["one two ", "three ", "four five"]),
        ("x" * 25, 10, ["x" * 10, "x" * 10, "x" * 5]),  # no space: cut at the width
        ("a " + "y" * 20, 10, ["a yyyyyyyy", "y" * 10, "yy"]),  # a space too early is not worth a short row
        ("界" * 7, 6, ["界" * 3, "界" * 3, "界"]),  # wide characters count two cells
    ],
)
def test_long_lines_fold_between_words(text: str, width: int, rows: list[str]) -> None:
    starts = fold_points(text, width)
    assert [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)] == rows


async def test_the_view_numbers_lines_and_folds_under_the_number() -> None:
    app, source = app_for()
    async with app.run_test(size=(40, 24)) as pilot:
        await finished(pilot, app, source)
        app.action_open_lane("fast")
        await pilot.pause()
        view = app.screen.query_one(CodeView)
        view.show_code("short = 1\nlong_name = " + "'word ' * 3 + " * 4 + "''\n", dark=True)
        await pilot.pause()
        rows = [view.render_line(y).text.rstrip() for y in range(4)]
        assert rows[0] == "1 short = 1"
        assert rows[1].startswith("2 long_name = 'word '")
        assert rows[2].startswith("  ") and rows[2].strip()  # the rest of line 2, under its code
        assert rows[3].startswith("3")
        assert all(len(row) <= view.scrollable_content_region.width for row in rows)
