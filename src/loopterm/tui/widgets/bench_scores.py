"""A benchmark's scores against wall-clock: every run, one colour per lane, fitted curves on top.

The x axis is seconds since each run's own start (runs of a bench may start
at different times), the y axis the score after each turn, zoomed to the
scores as the race chart's is (``chartgrid.y_range``: the few lowest under a
cut in the axis). Each run is a dim step line with
its lane's letter at every turn end; the lane's fitted convergence curve,
mapped to time with the lane's mean turn time, is drawn over the lines in
bold (the letters stay visible: they are the measurements). :func:`rasterise_bench` is a pure function from data to
character cells, so the drawing is tested without a terminal.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from loopterm.stats.aggregate import Report
from loopterm.tui.chartgrid import AXIS, CellKey, Frame, YRange, cells_text, marker, place_marks, y_range
from loopterm.tui.glyphs import Glyphs
from loopterm.tui.themes import LANE_COLOURS

Cell = tuple[str, int | None, bool]  # character, lane index (AXIS for the axes), part of a fitted curve


@dataclass
class LaneSeries:
    """One lane's runs and its fitted curve, ready to draw."""

    label: str
    runs: list[list[tuple[float, float]]] = field(default_factory=list)  # per run: (s since its start, score)
    s1: float | None = None  # mean first-turn score (the curve's start)
    r: float | None = None
    turn_s: float | None = None  # mean turn time: turn n of the model ends at n * turn_s

    def fitted_at(self, t: float) -> float | None:
        """The fitted score at ``t`` seconds into a run; None before the first turn ends."""
        if self.r is None or self.s1 is None or not self.turn_s or t < self.turn_s:
            return None
        return 1.0 - (1.0 - self.s1) * float((1.0 - self.r) ** (t / self.turn_s - 1.0))


def bench_series(report: Report) -> list[LaneSeries]:
    """One series per table row, from the report's counted runs."""
    from loopterm.stats.aggregate import counted, lane_key

    series = []
    for row in report.rows:
        key = (row.lane, row.provider, row.model)
        runs = [
            list(zip(r.summary.turn_end_s, r.summary.scores, strict=False))
            for r in report.runs
            if lane_key(r.summary) == key and counted(r.summary) and r.summary.scores
        ]
        s1 = row.fit.observed[0] if row.fit.observed else None
        series.append(LaneSeries(row.lane, runs, s1, row.fit.r, row.mean_turn_s))
    return series


def t_max_of(series: list[LaneSeries]) -> float:
    ends = [t for s in series for run in s.runs for t, _ in run]
    return max([1.0, *ends])


def y_range_of(series: list[LaneSeries]) -> YRange:
    """The score axis: zoomed to the runs' scores, the few low outliers under a cut (see ``y_range``).

    Benchmarked lanes often start above 80%; a 0-100% axis would squash every
    line into the top rows.
    """
    return y_range(score for s in series for run in s.runs for _, score in run)


def floor_of(series: list[LaneSeries]) -> float:
    return y_range_of(series).floor


MARK_REACH = 2  # a lane's letter moves at most this many cells aside for another lane's


def rasterise_bench(
    series: list[LaneSeries], width: int, height: int, t_max: float, glyphs: Glyphs, y: YRange | None = None
) -> list[list[Cell]]:
    """Cells of the chart: axes, each run's step line, the fitted curves over them, the runs' letters.

    Scores run from ``y``'s floor (bottom row, or above its cut) to 1.0 (top
    row). The letters (the measured turns) are drawn last so a curve never hides
    a data point; where two lanes' letters meet, the later one moves up to
    ``MARK_REACH`` cells aside (a bench has many runs: further would misplace it).
    """
    blank: Cell = (" ", None, False)
    cells = [[blank] * max(0, width) for _ in range(max(0, height))]
    frame = Frame.fitted(width, height, t_max, y or YRange())
    if not frame.fits:
        return cells
    row_of, col_of, x0 = frame.row_of, frame.col_of, frame.x0

    def put(x: int, y: int, ch: str, idx: int | None, fit: bool = False) -> None:
        if 0 <= y < height and 0 <= x < width:
            cells[y][x] = (ch, idx, fit)

    for x, row, ch in frame.axes(glyphs):
        put(x, row, ch, AXIS)

    for idx, s in enumerate(series):  # step lines first, so letters and curves sit on top
        for run in s.runs:
            prev: int | None = None
            for k, (t, score) in enumerate(run):
                row, c0 = row_of(score), col_of(t)
                c1 = col_of(run[k + 1][0]) if k + 1 < len(run) else c0
                if prev is not None and prev != row:
                    for r in range(min(prev, row), max(prev, row) + 1):
                        put(c0, r, glyphs.vline, idx)
                for x in range(c0 + 1, c1):
                    put(x, row, glyphs.hline, idx)
                prev = row
    dot = "*" if glyphs.ascii else "•"
    for idx, s in enumerate(series):  # the fitted curves over the runs' lines
        for x in range(x0, width):
            fitted = s.fitted_at((x - x0) / max(1, frame.plot_w - 1) * frame.t_max)
            if fitted is not None:
                put(x, row_of(fitted), dot, idx, True)
    marks = sorted(
        (
            (col_of(t), row_of(score), marker(idx), idx, t)
            for idx, s in enumerate(series)
            for run in s.runs
            for t, score in run
        ),
        key=lambda m: (m[4], m[3]),
    )
    for x, row, letter, idx in place_marks((m[:4] for m in marks), x0, width, MARK_REACH):
        put(x, row, letter, idx)
    return cells


class BenchScoreChart(Widget):
    """Scores of every run against seconds since its start, with each lane's fitted curve."""

    COMPONENT_CLASSES = {"bench-chart--axis"} | {f"bench-chart--lane-{i}" for i in range(1, LANE_COLOURS + 1)}
    DEFAULT_CSS = "\n".join(
        [
            "BenchScoreChart { height: 1fr; min-height: 6; }",
            "BenchScoreChart > .bench-chart--axis { color: $lt-muted; }",
            *(
                f"BenchScoreChart > .bench-chart--lane-{i} {{ color: $lt-lane-{i}; }}"
                for i in range(1, LANE_COLOURS + 1)
            ),
        ]
    )

    def __init__(self, glyphs: Glyphs, *, id: str | None = "bench-scores") -> None:
        super().__init__(id=id)
        self.glyphs = glyphs
        self.series: list[LaneSeries] = []
        self.rows: list[str] = []  # the last drawing as plain text (tests read it)

    def show(self, report: Report) -> None:
        self.series = bench_series(report)
        self.refresh()

    def lane_style(self, index: int) -> Style:
        return self.get_component_rich_style(f"bench-chart--lane-{index % LANE_COLOURS + 1}", partial=True)

    def render(self) -> Text:
        size = self.content_size
        cells = rasterise_bench(
            self.series, size.width, size.height, t_max_of(self.series), self.glyphs, y_range_of(self.series)
        )
        axis = self.get_component_rich_style("bench-chart--axis", partial=True)

        def style_of(key: CellKey) -> Style | None:
            idx, fit = key
            if idx is None:
                return None
            return axis if idx == AXIS else self.lane_style(idx) + Style(bold=fit, dim=not fit)

        text = cells_text(cells, style_of)
        self.rows = ["".join(cell[0] for cell in row) for row in cells]
        return text
