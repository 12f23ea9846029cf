"""The report's terminal tables at any width: no figure wraps or is cut; columns move to a continuation."""

from __future__ import annotations

from rich.console import Console
from support.bench_events import Run, race

from loopterm.stats.aggregate import build_report
from loopterm.stats.export import detail_cells, result_cells, to_rich


def render(width: int) -> tuple[str, list]:
    runs = [
        Run(
            f"w-r{i:02d}",
            [0.1 * (i + 1)] * 12,
            name="Weak local model",
            outcome="THRASH",
            tokens=(90_000, 9_000),
            cost=0.0123,
        )
        for i in range(3)
    ]
    runs += [Run("f-r01", [0.5, 1.0], name="Fast diffusion (sim)", model="f")]
    report = build_report([race(runs)])
    console = Console(width=width, record=True, color_system=None)
    console.print(to_rich(report))
    return console.export_text(), report.rows


def test_every_figure_is_whole_at_80_and_60_columns() -> None:
    for width in (80, 60):
        text, rows = render(width)
        lines = text.splitlines()
        assert max(len(line.rstrip()) for line in lines) <= width
        assert "…" not in text  # rich cut "26.5k~" to "26.…" and broke "2.2 s" over two lines
        for row in rows:
            for cell in (*result_cells(row, rows)[1:], *detail_cells(row, rows)[1:]):
                assert any(cell in line for line in lines), (width, cell)
        assert "(continued)" in text


def test_a_wide_terminal_keeps_one_table_each_with_one_line_headers() -> None:
    text, _ = render(200)
    assert "(continued)" not in text
    assert "Runs Passed" in text and "Mean Time To Pass" in text


def test_long_headers_split_near_their_middle() -> None:
    from loopterm.stats.export import stacked

    assert stacked("Mean Time To Pass") == "Mean Time\nTo Pass"
    assert stacked("Median Iterations") == "Median\nIterations"
    assert stacked("P90") == "P90" and stacked("Tokens/run") == "Tokens/run"
