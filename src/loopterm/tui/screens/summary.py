"""The results table: the same rows as ``--plain`` and replays print, live."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from loopterm.events import Event
from loopterm.racestate import RaceState
from loopterm.stats.runs import summarize
from loopterm.stats.table import RESULT_COLUMNS, result_rows

REFRESH_S = 0.5
_RIGHT = {"Turns", "To pass", "Best", "Tokens", "Cost"}


class SummaryScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back", id="summary.back")]

    def __init__(self, race: RaceState, events: Callable[[], Sequence[Event]]) -> None:
        super().__init__(id="summary")
        self.race = race
        self.events = events
        self._shown = -1

    def compose(self) -> ComposeResult:
        yield Static(id="summary-title")
        yield DataTable(id="results", zebra_stripes=True, cursor_type="row")
        yield Static(id="summary-caption")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#results", DataTable)
        for column in RESULT_COLUMNS:
            table.add_column(Text(column, justify="right" if column in _RIGHT else "left"), key=column)
        self.refresh_content()
        self.set_interval(REFRESH_S, self.refresh_content)

    def refresh_content(self) -> None:
        if self.race.version == self._shown:
            return
        self._shown = self.race.version
        runs = summarize(self.events())
        title = f"Results  race {self.race.race_id}  {self.race.task_id}"
        if self.race.done:
            title += "  (race aborted)" if self.race.aborted else "  (final)"
        else:
            title += "  (race still running)"
        self.query_one("#summary-title", Static).update(Text(title, no_wrap=True, overflow="ellipsis"))
        table = self.query_one("#results", DataTable)
        table.clear()
        for row in result_rows(runs):
            cells = [Text(cell, justify="right" if col in _RIGHT else "left") for col, cell in zip(RESULT_COLUMNS, row,
                                                                                                strict=True)]
            table.add_row(*cells)
        errors = [f"{r.info.name}: {r.reason}" for r in runs if r.outcome == "ERROR"]
        self.query_one("#summary-caption", Static).update(Text("\n".join(errors)))
