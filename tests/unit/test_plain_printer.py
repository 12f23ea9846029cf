"""The plain printer's score bar: rounded down, full only when every check passed."""

from __future__ import annotations

import io

from rich.console import Console
from support.bench_events import TOTAL, Run, race

from loopterm.plain.race import PlainPrinter, score_bar


def test_bar_is_full_only_at_a_pass() -> None:
    assert score_bar(47, 47) == "#" * 10
    assert score_bar(46, 47) == "#" * 9 + "."  # 9.8 cells: not a pass, not a full bar
    assert score_bar(45, 47) == "#" * 9 + "."
    assert score_bar(7, 10) == "#" * 7 + "..."  # exact, no float 6.999...
    assert score_bar(0, 47) == "." * 10
    assert score_bar(0, 0) == "." * 10  # no checks known: nothing to fill


def test_turn_lines_draw_the_bar_from_checks_passed() -> None:
    buffer = io.StringIO()
    printer = PlainPrinter(Console(file=buffer, width=200, highlight=False))
    for event in race([Run("a-r01", [(TOTAL - 1) / TOTAL, 1.0])]):
        printer(event)
    turns = [line for line in buffer.getvalue().splitlines() if " turn " in line]
    assert f"39/{TOTAL} #########." in turns[0]
    assert f"40/{TOTAL} ##########" in turns[1]
