"""Score against race time for every lane, rasterised into character cells.

A pure function from series to a grid of (character, series index) cells, so
the drawing is tested without a terminal. Each lane is a step line (a score
holds until the next turn ends) with its marker letter where a turn ended;
letters keep lanes apart on a monochrome screen. Letters of different lanes
that would fall in one cell are set side by side (the nearest free cells on
the row), so every lane stays in view. The score axis zooms to the scores
(:func:`y_range`): a few low outliers (an answer with no code scores 0) go on
a row of their own below a cut in the axis instead of stretching it to 0%.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

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


# What a chart keys each cell by for its style; each chart has its own shape (series, fit, axis...).
CellKey = tuple[Any, ...]


def cells_text(rows: Sequence[Sequence[CellKey]], style_of: Callable[[CellKey], Style | None]) -> Text:
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


@dataclass(frozen=True)
class YRange:
    """Where the score axis starts, and what it leaves out.

    ``floor``: the score at the foot of the axis. ``low_label``: set when some
    scores are below ``floor``; they go on a row of their own under a cut in the
    axis, labelled with this ("0%", or "<70%" when they differ).
    """

    floor: float = 0.0
    low_label: str | None = None


OUTLIER_SHARE = 0.1  # at most this share of the scores may go under the axis's cut
FLOOR_MAX = 0.9  # the axis always spans at least 10%
ZOOM_MIN = 0.3  # an axis that would start below this starts at 0%
CUT_MIN = 0.5  # a cut in the axis is worth its two rows only above this
BREAK_MIN_ROWS = 6  # a plot shorter than this has no room for a cut: its axis starts at 0%


def _tenths_below(score: float) -> float:
    return min(FLOOR_MAX, math.floor(score * 10 + 1e-9) / 10)


def y_range(scores: Iterable[float]) -> YRange:
    """The score axis for ``scores``: from 0%, or zoomed to where they are.

    Working candidates' scores bunch up between 70% and 100%; an axis from 0%
    squeezes every line into its top rows. The axis starts at the lowest score
    rounded down to 10% (at most 90%) when that is 30% or more. Else, when the
    lowest tenth of the scores are outliers (a no-code answer scores 0) and the
    rest start at 50% or more, it starts where the rest do and the outliers go
    on a row of their own under a cut. Otherwise it starts at 0%.
    """
    ordered = sorted(scores)
    if not ordered:
        return YRange()
    if (floor := _tenths_below(ordered[0])) >= ZOOM_MIN:
        return YRange(floor)
    floor = _tenths_below(ordered[int(len(ordered) * OUTLIER_SHARE)])
    if floor < CUT_MIN:
        return YRange()
    below = [score for score in ordered if score < floor]
    return YRange(floor, f"{below[0]:.0%}" if below[0] == below[-1] else f"<{floor:.0%}")


def y_floor(series: list[Series]) -> float:
    """The bottom of the score axis for these series (see :func:`y_range`)."""
    return y_range(score for s in series for _, score in s.points).floor


@dataclass(frozen=True)
class Frame:
    """Where a score-against-time plot sits in a grid of ``width`` x ``height`` cells.

    Score labels take the first ``Y_LABEL_WIDTH`` columns, then the y axis; the
    last two rows are the x axis and its time labels. Scores run from ``y_min``
    (bottom row) to 1.0 (top row), time from 0 to ``t_max``. With a
    ``low_label`` the two rows above the x axis are a cut in the axis and a row
    for every score below ``y_min``.
    """

    width: int
    height: int
    t_max: float
    y_min: float = 0.0
    x0: int = Y_LABEL_WIDTH + 1  # the first column of the plot
    low_label: str | None = None

    @classmethod
    def fitted(cls, width: int, height: int, t_max: float, y: YRange) -> Frame:
        """A frame for ``y``; one too short for a cut in its axis starts at 0% instead."""
        frame = cls(width, height, max(t_max, 1e-9), y.floor, low_label=y.low_label)
        if y.low_label is not None and frame.plot_h < BREAK_MIN_ROWS:
            return cls(width, height, max(t_max, 1e-9))
        return frame

    @property
    def plot_w(self) -> int:
        return self.width - self.x0

    @property
    def plot_h(self) -> int:
        return self.height - 2

    @property
    def fits(self) -> bool:
        return self.plot_w >= 4 and self.plot_h >= 3

    @property
    def zoom_h(self) -> int:
        """Rows of the plot for the scores from ``y_min`` up (all of it without a cut)."""
        return self.plot_h - 2 if self.low_label is not None else self.plot_h

    def row_of(self, score: float) -> int:
        if self.low_label is not None and score < self.y_min:
            return self.plot_h - 1
        span = max(1e-9, 1.0 - self.y_min)
        return round((1.0 - min(1.0, max(0.0, (score - self.y_min) / span))) * (self.zoom_h - 1))

    def col_of(self, t: float) -> int:
        return self.x0 + round(min(1.0, max(0.0, t / max(self.t_max, 1e-9))) * (self.plot_w - 1))

    def axes(self, glyphs: Glyphs) -> Iterator[tuple[int, int, str]]:
        """(x, y, character) of the axes and their labels: 100%, the middle, the floor (then the
        cut and the row under it); 0, half, the end."""
        mid = (1.0 + self.y_min) / 2
        labels = [
            (self.row_of(1.0), "100%"),
            (self.row_of(mid), f"{mid:.0%}"),
            (self.row_of(self.y_min), f"{self.y_min:.0%}"),
        ]
        if self.low_label is not None:
            labels.append((self.plot_h - 1, self.low_label))
        for row, label in labels:
            for i, ch in enumerate(label.rjust(Y_LABEL_WIDTH)[-Y_LABEL_WIDTH:]):
                yield i, row, ch
        for y in range(self.plot_h):
            cut = self.low_label is not None and y == self.plot_h - 2
            yield self.x0 - 1, y, glyphs.vbreak if cut else glyphs.vline
        yield self.x0 - 1, self.plot_h, glyphs.corner
        for x in range(self.x0, self.width):
            yield x, self.plot_h, glyphs.hline
        for t in (0.0, self.t_max / 2, self.t_max):
            label = nice_seconds(t)
            start = min(max(self.col_of(t) - len(label) // 2, self.x0), self.width - len(label))
            for i, ch in enumerate(label):
                yield start + i, self.plot_h + 1, ch


Mark = tuple[int, int, str, int]  # x, y, letter, series index


def place_marks(marks: Iterable[Mark], x_min: int, width: int, reach: int) -> list[Mark]:
    """Where each letter goes: its own cell, or when another series' letter holds it, the
    nearest free cell on the same row (right first, then left) within ``reach`` cells.

    A series' own letters may share a cell (one letter shows). A letter with no free
    cell within reach keeps its cell and covers the one there: later marks win.
    """
    held: dict[tuple[int, int], int] = {}
    placed: list[Mark] = []
    for x, y, letter, idx in marks:
        spot = x
        if held.get((x, y), idx) != idx:
            for step in range(1, reach + 1):
                free = [c for c in (x + step, x - step) if x_min <= c < width and (c, y) not in held]
                if free:
                    spot = free[0]
                    break
        held[(spot, y)] = idx
        placed.append((spot, y, letter, idx))
    return placed


def rasterise(
    series: list[Series], width: int, height: int, t_max: float, glyphs: Glyphs, y: YRange | None = None
) -> Grid:
    blank: tuple[str, int | None] = (" ", None)
    cells = [[blank] * max(0, width) for _ in range(max(0, height))]
    frame = Frame.fitted(width, height, t_max, y or YRange())
    if not frame.fits:
        return Grid(width, height, cells)
    row_of, col_of = frame.row_of, frame.col_of

    def put(x: int, y: int, ch: str, idx: int | None) -> None:
        if 0 <= y < height and 0 <= x < width:
            cells[y][x] = (ch, idx)

    for x, row, ch in frame.axes(glyphs):
        put(x, row, ch, AXIS)

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
                for r in range(lo, hi + 1):
                    put(c0, r, glyphs.vline, idx)
            for x in range(c0 + (1 if prev_row is not None else 0), c1 + 1):
                put(x, row, glyphs.hline, idx)
            prev_row = row
    # Markers last, in time order: no line may hide a lane's letter, and letters of
    # lanes that meet in one cell are set side by side.
    marks = sorted(
        ((col_of(t), row_of(score), s.marker, idx, t) for idx, s in enumerate(series) for t, score in s.points),
        key=lambda m: (m[4], m[3]),
    )
    for x, row, letter, idx in place_marks((m[:4] for m in marks), frame.x0, width, reach=len(series)):
        put(x, row, letter, idx)
    return Grid(width, height, cells)
