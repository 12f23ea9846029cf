"""The benchmark results table: the same cells ``report`` prints, one row per lane."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.message import Message
from textual.widgets import DataTable

from loopterm.stats.aggregate import Report
from loopterm.stats.export import detail_cells, result_cells

# The talk's columns, then the prediction beside the measurement, then the rest.
COLUMNS = (
    "Lane",
    "Class",
    "Runs Passed",
    "One-shot",
    "Median Iterations",
    "Mean Time To Pass",
    "Predicted (fit)",
    "P90",
    "Best Failed Score",
    "ERROR runs",
    "r",
    "Model s/turn",
    "Validation s/turn",
    "Tokens/run",
    "Cost/run",
    "Cost/pass",
)
_LEFT = {"Lane", "Class"}
# Headers on two lines to keep the columns narrow; what still does not fit the width is dropped
# from the right (the least needed columns are last), never scrolled sideways off the screen.
_HEADERS = {
    "Runs Passed": "Runs\nPassed",
    "Median Iterations": "Median\nIterations",
    "Mean Time To Pass": "Mean Time\nTo Pass",
    "Predicted (fit)": "Predicted\n(fit)",
    "Best Failed Score": "Best Failed\nScore",
    "ERROR runs": "ERROR\nruns",
    "Model s/turn": "Model\ns/turn",
    "Validation s/turn": "Validation\ns/turn",
    "Tokens/run": "Tokens\n/run",
    "Cost/run": "Cost\n/run",
    "Cost/pass": "Cost\n/pass",
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


def column_widths(cells: list[tuple[str, ...]]) -> list[int]:
    """Each column's width: its widest header line or cell."""
    return [
        max([*(len(line) for line in _HEADERS.get(column, column).split("\n")), *(len(row[i]) for row in cells)])
        for i, column in enumerate(COLUMNS)
    ]


def columns_that_fit(widths: list[int], room: int, padding: int = 1) -> int:
    """How many leading columns fit ``room`` cells (each with ``padding`` on both sides); the lane always."""
    used, count = 0, 0
    for width in widths:
        used += width + 2 * padding
        if used > room and count:
            break
        count += 1
    return count


class BenchTable(DataTable[Text]):
    """One row per lane; ``show`` replaces the rows with a report's, in the columns that fit."""

    DEFAULT_CSS = "BenchTable { height: auto; max-height: 12; overflow-x: hidden; }"

    class Fitted(Message):
        """The columns changed with the width: ``hidden`` are the ones left out."""

        def __init__(self, hidden: list[str]) -> None:
            super().__init__()
            self.hidden = hidden

    def __init__(self, *, id: str | None = "bench-table") -> None:
        super().__init__(id=id, zebra_stripes=True, cursor_type="row", header_height=2)
        self.cells: list[tuple[str, ...]] = []
        self.shown: list[str] = []  # the columns on screen, a prefix of COLUMNS
        self.hidden: list[str] = []

    def on_mount(self) -> None:
        self._fill()

    def on_resize(self, event: events.Resize) -> None:
        self._fill()

    def show(self, report: Report) -> None:
        self.cells = table_cells(report)
        self._fill(rows_changed=True)

    def _fill(self, rows_changed: bool = False) -> None:
        room = self.size.width or self.app.size.width
        if self.cells and len(self.cells) + 2 > 12:
            room -= 2  # the vertical scrollbar of a long table
        count = columns_that_fit(column_widths(self.cells), room, self.cell_padding)
        if count != len(self.shown):
            self.shown, self.hidden = list(COLUMNS[:count]), list(COLUMNS[count:])
            self.clear(columns=True)
            for column in self.shown:
                label = _HEADERS.get(column, column)
                self.add_column(Text(label, justify="left" if column in _LEFT else "right"), key=column)
            rows_changed = True
            self.post_message(self.Fitted(self.hidden))
        if rows_changed:
            self.clear()
            for cells in self.cells:
                self.add_row(
                    *(
                        Text(cell, justify="left" if col in _LEFT else "right")
                        for col, cell in zip(self.shown, cells, strict=False)
                    )
                )
