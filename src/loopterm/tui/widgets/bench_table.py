"""The benchmark results table: the same cells ``report`` prints, one row per lane."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from loopterm.stats.aggregate import Report
from loopterm.stats.export import detail_cells, result_cells

# The talk's columns, then the prediction beside the measurement, then the rest.
COLUMNS = (
    "Lane", "Class", "Runs Passed", "One-shot", "Median Iterations", "Mean Time To Pass",
    "Predicted (fit)", "P90", "Best Failed Score", "ERROR runs", "r", "Model s/turn",
    "Validation s/turn", "Tokens/run", "Cost/run", "Cost/pass",
)
_LEFT = {"Lane", "Class"}
# Headers on two lines so the whole table fits 120 columns (a DataTable scrolls sideways beyond that).
_HEADERS = {
    "Runs Passed": "Runs\nPassed", "Median Iterations": "Median\nIterations", "Mean Time To Pass": "Mean Time\nTo Pass",
    "Predicted (fit)": "Predicted\n(fit)", "Best Failed Score": "Best Failed\nScore", "ERROR runs": "ERROR\nruns",
    "Model s/turn": "Model\ns/turn", "Validation s/turn": "Validation\ns/turn", "Tokens/run": "Tokens\n/run",
    "Cost/run": "Cost\n/run", "Cost/pass": "Cost\n/pass",
}


def table_cells(report: Report) -> list[tuple[str, ...]]:
    """Each row's cells in ``COLUMNS`` order."""
    out = []
    for row in report.rows:
        result = result_cells(row, report.rows)
        detail = detail_cells(row, report.rows)
        # result: Lane Class Runs One-shot Median Mean P90 Best ERROR
        # detail: Lane Mean Predicted r Model Validation Tokens Cost/run Cost/pass
        out.append((*result[:6], detail[2], *result[6:9], *detail[3:]))
    return out


class BenchTable(DataTable):
    """One row per lane; ``show`` replaces the rows with a report's."""

    DEFAULT_CSS = "BenchTable { height: auto; max-height: 12; }"

    def __init__(self, *, id: str | None = "bench-table") -> None:
        super().__init__(id=id, zebra_stripes=True, cursor_type="row", header_height=2)
        self.cells: list[tuple[str, ...]] = []

    def on_mount(self) -> None:
        for column in COLUMNS:
            label = _HEADERS.get(column, column)
            self.add_column(Text(label, justify="left" if column in _LEFT else "right"), key=column)

    def show(self, report: Report) -> None:
        self.cells = table_cells(report)
        self.clear()
        for cells in self.cells:
            self.add_row(
                *(Text(cell, justify="left" if col in _LEFT else "right") for col, cell in zip(COLUMNS, cells,
                                                                                             strict=True))
            )
