"""The results table: the same rows as ``--plain`` and replays print, live; a wide terminal adds columns."""

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
from loopterm.stats.runs import RunSummary, summarize
from loopterm.stats.table import (
    RESULT_COLUMNS,
    error_lines,
    error_reason,
    in_place_order,
    result_rows,
)
from loopterm.tui.footer import make_footer
from loopterm.words import fmt_seconds

REFRESH_S = 0.5
_RIGHT = {"Turns", "To pass", "Best", "Tokens", "Cost", "Score", "Model/turn", "Valid./turn", "Retries"}
# What a wide terminal adds after the plain table's columns, in this order; Reason takes what is left.
EXTRA_COLUMNS = ("Score", "Model/turn", "Valid./turn", "Retries", "Reason")
REASON_MIN = 16  # cells worth giving the reason; less and it is left out
GAP_MAX = 3  # spaces between columns when the width has them to spare


def extra_rows(runs: list[RunSummary]) -> list[tuple[str, ...]]:
    """Per run, in the results table's order: final score, median model and validation time a turn,
    retries, and the reason it ended ("passed 47/47 on turn 2", "no new best score in 3 turns")."""

    def seconds(ms: float | None) -> str:
        return fmt_seconds(None if ms is None else ms / 1000)

    rows: list[tuple[str, ...]] = []
    for run in in_place_order(runs):
        median = run.median_ms()
        rows.append(
            (
                f"{run.final_score:.0%}",
                seconds(median["model"]),
                seconds(median["validation"]),
                str(run.retries),
                visible(error_reason(run)) or "-",
            )
        )
    return rows


def fitted(
    rows: list[tuple[str, ...]], extra: list[tuple[str, ...]], width: int
) -> tuple[list[str], list[str], list[list[str]]]:
    """The columns that fit ``width`` cells, their header cells and the rows' cells, padded.

    The plain table's columns always (its own rules drop columns on a narrow
    terminal; this screen scrolls instead), then each of ``EXTRA_COLUMNS`` that
    still fits, the reason cut to the width left; then the spare cells widen the
    gaps between columns, up to ``GAP_MAX`` spaces.
    """
    columns = list(RESULT_COLUMNS)
    cells = [list(row) for row in rows]
    for i, column in enumerate(EXTRA_COLUMNS):
        widths = _widths(columns, cells)
        used = sum(widths) + len(widths)
        own = max([len(column), *(len(row[i]) for row in extra)]) + 1
        if column == "Reason":
            own = min(own, width - used)
            if own < REASON_MIN:
                break
        elif used + own > width:
            break
        columns.append(column)
        for row, more in zip(cells, extra, strict=True):
            text = more[i]
            row.append(text if len(text) < own else text[: max(0, own - 2)] + "…")
    widths = _widths(columns, cells)
    gap = max(1, min(GAP_MAX, (width - sum(widths)) // max(1, len(widths))))

    def pad(i: int, text: str) -> str:
        return " " * gap + (text.rjust(widths[i]) if columns[i] in _RIGHT else text.ljust(widths[i]))

    header = [pad(i, column) for i, column in enumerate(columns)]
    return columns, header, [[pad(i, cell) for i, cell in enumerate(row)] for row in cells]


def _widths(columns: list[str], cells: list[list[str]]) -> list[int]:
    return [max([len(column), *(len(row[i]) for row in cells)]) for i, column in enumerate(columns)]


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

    def on_resize(self) -> None:
        self._shown = -1  # the columns that fit change with the width
        self.refresh_content()

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
        room = (self.size.width or self.app.size.width) - 2  # the table's margins
        columns, header, rows = fitted(result_rows(runs), extra_rows(runs), room)
        if (header, rows) == self._rows:
            return  # streaming tokens change no cell: keep the table (and its cursor) as it is
        self._rows = (header, rows)
        table.clear(columns=True)
        for key, label in zip(columns, header, strict=True):
            table.add_column(label, key=key)
        for row in rows:
            # Text, not str: a DataTable reads a str cell as markup, and a lane may be named "[red]x".
            table.add_row(*(Text(cell) for cell in row))
        self.query_one("#summary-caption", Static).update(Text("\n".join(error_lines(runs))))
