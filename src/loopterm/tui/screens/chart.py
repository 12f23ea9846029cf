"""Score against race time for every lane on one plot, with a legend."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Static

from loopterm.racestate import RaceState
from loopterm.stats.table import ordinal
from loopterm.tui.chartgrid import marker
from loopterm.tui.footer import make_footer
from loopterm.tui.glyphs import Glyphs
from loopterm.tui.panetext import lane_outcome
from loopterm.tui.widgets.score_chart import ScoreChart

REFRESH_S = 0.5


def legend_lines(race: RaceState) -> list[tuple[int, str]]:
    lines = []
    for i, lane in enumerate(race.lanes.values()):
        if lane.done:
            status = lane_outcome(lane)
        elif lane.scores:
            status = f"turn {lane.turn}, {lane.score:.0%}"
        else:  # no turn scored yet: nothing on the plot, and no 0% it never scored
            status = f"turn {lane.turn}, not scored yet" if lane.turn else "not started"
        if lane.place:
            status += f" ({ordinal(lane.place)})"
        lines.append((i, f"{marker(i)}  {race.display_name(lane.run_id)}: {status}"))
    return lines


class ChartScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "app.pop_screen", "Back", id="chart.back")]

    def __init__(self, race: RaceState, now: Callable[[], float], glyphs: Glyphs) -> None:
        super().__init__(id="chart")
        self.race = race
        self.now = now
        self.glyphs = glyphs
        self._shown = -1

    def compose(self) -> ComposeResult:
        yield Static(
            Text("Score against race time (each letter is a finished turn)", no_wrap=True, overflow="ellipsis"),
            id="chart-title",
        )
        yield ScoreChart(self.race, self.now, self.glyphs)
        yield Static(id="chart-legend")
        yield make_footer(self.app)

    def on_mount(self) -> None:
        self.refresh_legend()
        self.set_interval(REFRESH_S, self.refresh_legend)

    def show_news(self, lanes: set[str | None]) -> None:
        self.query_one(ScoreChart).refresh()
        self.refresh_legend()

    def refresh_legend(self) -> None:
        if self.race.version == self._shown:
            return
        self._shown = self.race.version
        chart = self.query_one(ScoreChart)
        legend = Text(no_wrap=True, overflow="ellipsis")
        for n, (index, line) in enumerate(legend_lines(self.race)):
            if n:
                legend.append("\n")
            legend.append(line, chart.lane_style(index))
        self.query_one("#chart-legend", Static).update(legend)
