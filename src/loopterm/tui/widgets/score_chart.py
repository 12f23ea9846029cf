"""Score against race time for every lane on one plot, drawn in character cells."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from loopterm.racestate import RaceState
from loopterm.tui.chartgrid import AXIS, CellKey, Series, cells_text, marker, rasterise, y_range
from loopterm.tui.glyphs import Glyphs
from loopterm.tui.themes import LANE_COLOURS

REPAINT_S = 0.25


def chart_series(race: RaceState) -> list[Series]:
    return [
        Series(
            label=race.display_name(lane.run_id),
            marker=marker(i),
            points=list(lane.score_points),
            end_t=lane.finished_t,
        )
        for i, lane in enumerate(race.lanes.values())
    ]


def chart_t_max(race: RaceState, now: float) -> float:
    """The right edge: the race's end, or now while it runs (at least one second)."""
    ends = [t for lane in race.lanes.values() for t, _ in lane.score_points]
    ends += [lane.finished_t for lane in race.lanes.values() if lane.finished_t is not None]
    if race.race_t_end is not None:
        ends.append(race.race_t_end)
    elif not race.done:
        ends.append(now)
    return max([1.0, *ends])


class ScoreChart(Widget):
    COMPONENT_CLASSES: ClassVar[set[str]] = {"score-chart--axis"} | {
        f"score-chart--lane-{i}" for i in range(1, LANE_COLOURS + 1)
    }

    def __init__(self, race: RaceState, now: Callable[[], float], glyphs: Glyphs) -> None:
        super().__init__(id="score-chart")
        self.race = race
        self.now = now
        self.glyphs = glyphs
        self.rows: list[str] = []

    def on_mount(self) -> None:
        self.set_interval(REPAINT_S, self.refresh)

    def lane_style(self, index: int) -> Style:
        return self.get_component_rich_style(f"score-chart--lane-{index % LANE_COLOURS + 1}", partial=True)

    def render(self) -> Text:
        size = self.content_size
        series = chart_series(self.race)
        scores = (score for s in series for _, score in s.points)
        grid = rasterise(
            series, size.width, size.height, chart_t_max(self.race, self.now()), self.glyphs, y_range(scores)
        )
        axis = self.get_component_rich_style("score-chart--axis", partial=True)

        def style_of(key: CellKey) -> Style | None:
            (idx,) = key
            if idx is None:
                return None
            return axis if idx == AXIS else self.lane_style(idx)

        text = cells_text(grid.cells, style_of)
        self.rows = grid.rows()
        return text
