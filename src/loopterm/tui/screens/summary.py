"""The results table: the same rows as ``--plain`` and replays print, live."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Static

from loopterm.events import Event
from loopterm.racestate import RaceState
from loopterm.sanitize import visible
from loopterm.stats.runs import summarize
from loopterm.stats.table import RESULT_COLUMNS, error_lines, result_rows
from loopterm.tui.footer import make_footer

REFRESH_S = 0.5
_RIGHT = {"Turns", "To pass", "Best", "Tokens", "Cost"}


def aligned(rows: list[tuple[str, ...]]) -> tuple[list[str], list[list[str]]]:
    """Header and rows padded to column widths, numbers flush right, one space between columns.

    The table's own cell padding is off: with it the nine columns do not fit 80 columns.
    """
    widths = [max([len(column), *(len(row[i]) for row in rows)]) for i, column in enumerate(RESULT_COLUMNS)]

    def pad(i: int, text: str) -> str:
        return " " + (text.rjust(widths[i]) if RESULT_COLUMNS[i] in _RIGHT else text.ljust(widths[i]))

    header = [pad(i, column) for i, column in enumerate(RESULT_COLUMNS)]
    return header, [[pad(i, cell) for i, cell in enumerate(row)] for row in rows]


class SummaryScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back", id="summary.back")]

    def __init__(self, race: RaceState, events: Callable[[], Sequence[Event]]) -> None:
        super().__init__(id="summary")
        self.race = race
        self.events = events
        self._shown = -1
        self._rows: tuple[list[str], list[list[str]]] | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="summary-title")
        yield DataTable(id="results", zebra_stripes=True, cursor_type="row", cell_padding=0)
        yield Static(id="summary-caption")
        yield make_footer(self.app)

    def on_mount(self) -> None:
        self.refresh_content()
        self.set_interval(REFRESH_S, self.refresh_content)

    def show_news(self, lanes: set[str | None]) -> None:
        self.refresh_content()

    def refresh_content(self) -> None:
        if self.race.version == self._shown:
            return
        self._shown = self.race.version
        runs = summarize(self.events())
        kind = self.race.kind  # race, bench or rescore: a bench's runs are not a race
        title = f"Results  {kind} {self.race.race_id}  {self.race.task_id}"
        if self.race.done:
            title += f"  ({kind} aborted)" if self.race.aborted else "  (final)"
        else:
            title += f"  ({kind} still running)"
        self.query_one("#summary-title", Static).update(Text(visible(title), no_wrap=True, overflow="ellipsis"))
        table = self.query_one("#results", DataTable)
        header, rows = aligned(result_rows(runs))
        if (header, rows) == self._rows:
            return  # streaming tokens change no cell: keep the table (and its cursor) as it is
        self._rows = (header, rows)
        table.clear(columns=True)
        for key, label in zip(RESULT_COLUMNS, header, strict=True):
            table.add_column(label, key=key)
        for row in rows:
            # Text, not str: a DataTable reads a str cell as markup, and a lane may be named "[red]x".
            table.add_row(*(Text(cell) for cell in row))
        self.query_one("#summary-caption", Static).update(Text("\n".join(error_lines(runs))))
