"""Score against race time for every lane, rasterised into character cells.

A pure function from series to a grid of (character, series index) cells, so
the drawing is tested without a terminal. Each lane is a step line (a score
holds until the next turn ends) with its marker letter where a turn ended;
letters keep lanes apart on a monochrome screen.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import groupby

from rich.style import Style
from rich.text import Text

from loopterm.tui.glyphs import Glyphs

AXIS = -1  # series index of axis cells
Y_LABEL_WIDTH = 5  # "100%"


@dataclass
class Series:
    label: str
    marker: str
    points: list[tuple[float, float]] = field(default_factory=list)  # (race t, score 0..1)
    end_t: float | None = None  # the lane finished here; None: it runs on to now


@dataclass
class Grid:
    width: int
    height: int
    cells: list[list[tuple[str, int | None]]]

    def rows(self) -> list[str]:
        return ["".join(ch for ch, _ in row) for row in self.cells]


def cells_text(rows: Sequence[Sequence[tuple]], style_of: Callable[[tuple], Style | None]) -> Text:
    """Rows of cells as one Text, for a widget's ``render``.

    A cell is (character, *key); a run of cells with the same key shares the
    style ``style_of(key)`` (None: unstyled), so a line costs a few spans, not one a cell.
    """
    text = Text(no_wrap=True)
    for y, row in enumerate(rows):
        if y:
            text.append("\n")
        for key, run in groupby(row, key=lambda cell: cell[1:]):
            text.append("".join(cell[0] for cell in run), style_of(key))
    return text


def marker(index: int) -> str:
    return chr(ord("A") + index % 26)


def nice_seconds(t: float) -> str:
    return f"{t:.0f} s" if t >= 10 else f"{t:.1f} s"


def y_floor(series: list[Series]) -> float:
    """The bottom of the score axis: 0, or closer to the scores when they are all high.

    Scores of working candidates bunch up between 70% and 100%; starting the axis
    just below the lowest one spreads the lines apart. It never starts above 80%.
    """
    scores = [score for s in series for _, score in s.points]
    if not scores:
        return 0.0
    low = min(scores)
    return 0.0 if low < 0.3 else min(0.8, int(low * 10) / 10)


@dataclass(frozen=True)
class Frame:
    """Where a score-against-time plot sits in a grid of ``width`` x ``height`` cells.

    Score labels take the first ``Y_LABEL_WIDTH`` columns, then the y axis; the
    last two rows are the x axis and its time labels. Scores run from ``y_min``
    (bottom row) to 1.0 (top row), time from 0 to ``t_max``.
    """

    width: int
    height: int
    t_max: float
    y_min: float = 0.0
    x0: int = Y_LABEL_WIDTH + 1  # the first column of the plot

    @property
    def plot_w(self) -> int:
        return self.width - self.x0

    @property
    def plot_h(self) -> int:
        return self.height - 2

    @property
    def fits(self) -> bool:
        return self.plot_w >= 4 and self.plot_h >= 3

    def row_of(self, score: float) -> int:
        span = max(1e-9, 1.0 - self.y_min)
        return round((1.0 - min(1.0, max(0.0, (score - self.y_min) / span))) * (self.plot_h - 1))

    def col_of(self, t: float) -> int:
        return self.x0 + round(min(1.0, max(0.0, t / max(self.t_max, 1e-9))) * (self.plot_w - 1))

    def axes(self, glyphs: Glyphs) -> Iterator[tuple[int, int, str]]:
        """(x, y, character) of the axes and their labels: 100%, the middle, the floor; 0, half, the end."""
        mid = (1.0 + self.y_min) / 2
        for score, label in ((1.0, "100%"), (mid, f"{mid:.0%}"), (self.y_min, f"{self.y_min:.0%}")):
            for i, ch in enumerate(label.rjust(Y_LABEL_WIDTH)):
                yield i, self.row_of(score), ch
        for y in range(self.plot_h):
            yield self.x0 - 1, y, glyphs.vline
        yield self.x0 - 1, self.plot_h, glyphs.corner
        for x in range(self.x0, self.width):
            yield x, self.plot_h, glyphs.hline
        for t in (0.0, self.t_max / 2, self.t_max):
            label = nice_seconds(t)
            start = min(max(self.col_of(t) - len(label) // 2, self.x0), self.width - len(label))
            for i, ch in enumerate(label):
                yield start + i, self.plot_h + 1, ch


def rasterise(
    series: list[Series], width: int, height: int, t_max: float, glyphs: Glyphs, y_min: float = 0.0
) -> Grid:
    blank: tuple[str, int | None] = (" ", None)
    cells = [[blank] * max(0, width) for _ in range(max(0, height))]
    frame = Frame(width, height, max(t_max, 1e-9), y_min)
    if not frame.fits:
        return Grid(width, height, cells)
    row_of, col_of = frame.row_of, frame.col_of

    def put(x: int, y: int, ch: str, idx: int | None) -> None:
        if 0 <= y < height and 0 <= x < width:
            cells[y][x] = (ch, idx)

    for x, y, ch in frame.axes(glyphs):
        put(x, y, ch, AXIS)

    for idx, s in enumerate(series):
        if not s.points:
            continue
        end = s.end_t if s.end_t is not None else frame.t_max
        # The step line: from each turn's end to the next one (or the lane's end).
        prev_row: int | None = None
        for k, (t, score) in enumerate(s.points):
            nxt = s.points[k + 1][0] if k + 1 < len(s.points) else max(end, t)
            row = row_of(score)
            c0, c1 = col_of(t), col_of(nxt)
            if prev_row is not None and prev_row != row:
                lo, hi = sorted((prev_row, row))
                for y in range(lo, hi + 1):
                    put(c0, y, glyphs.vline, idx)
            for x in range(c0 + (1 if prev_row is not None else 0), c1 + 1):
                put(x, row, glyphs.hline, idx)
            prev_row = row
    for idx, s in enumerate(series):  # markers last: no line may hide a lane's letter
        for t, score in s.points:
            put(col_of(t), row_of(score), s.marker, idx)
    return Grid(width, height, cells)
