"""Time to pass per lane as a strip plot: one track per lane, one mark per passed run.

Each passed run is its lane's letter at its time to pass; several runs in one
cell show their count (2-9, ``+`` for more). The lane's mean time to pass is
a vertical bar on the track and its P90 (over every counted run, passed or
not) a ``>``, so both read on a monochrome screen. The P90 is often a run's
own time (below 10 runs it is the slowest run's): where a run or the mean
holds its cell, the ``>`` goes in the next free cell to the right (else the
left), beside the run it marks. :func:`strip_key` says what the marks are (the
screen's heading over the strip). A lane with no passed run says so.
:func:`strip_rows` is pure, so the drawing is tested without a terminal.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.widget import Widget

from loopterm.sanitize import visible
from loopterm.stats.aggregate import Report
from loopterm.tui.chartgrid import AXIS, CellKey, cells_text, marker, nice_seconds
from loopterm.tui.glyphs import Glyphs
from loopterm.tui.themes import LANE_COLOURS

LABEL_MAX = 24


@dataclass
class LaneTimes:
    label: str
    times: list[float] = field(default_factory=list)  # time to pass of each passed run
    mean: float | None = None
    p90: float | None = None


def lane_times(report: Report) -> list[LaneTimes]:
    from loopterm.stats.aggregate import lane_key

    out = []
    for row in report.rows:
        key = (row.lane, row.provider, row.model)
        times = [
            r.summary.time_to_pass_s
            for r in report.runs
            if lane_key(r.summary) == key and r.summary.passed and r.summary.time_to_pass_s is not None
        ]
        out.append(LaneTimes(visible(row.lane), times, row.mean_time_to_pass_s, row.p90_s))
    return out


def strip_rows(lanes: list[LaneTimes], width: int, glyphs: Glyphs) -> list[list[tuple[str, int | None]]]:
    """One row per lane, then the axis and its time labels; cells are (character, lane index)."""
    label_w = min(LABEL_MAX, max((len(lane.label) for lane in lanes), default=0)) + 1
    x0 = label_w + 1
    plot_w = width - x0
    rows: list[list[tuple[str, int | None]]] = []
    if plot_w < 8 or not lanes:
        return rows
    t_max = max([1.0, *(t for lane in lanes for t in lane.times), *(lane.p90 or 0.0 for lane in lanes)])

    def col_of(t: float) -> int:
        return round(min(1.0, max(0.0, t / t_max)) * (plot_w - 1))

    for idx, lane in enumerate(lanes):
        label = lane.label[: label_w - 1].ljust(label_w)
        row: list[tuple[str, int | None]] = [(ch, idx) for ch in label]
        row.append((glyphs.vline, AXIS))
        track: list[tuple[str, int | None]] = [(" ", None)] * plot_w
        if not lane.times:
            note = "no passed run"
            track[: len(note)] = [(ch, AXIS) for ch in note[:plot_w]]
        else:
            if lane.mean is not None:
                track[col_of(lane.mean)] = (glyphs.vline, idx)
            for col, count in sorted(Counter(col_of(t) for t in lane.times).items()):
                ch = marker(idx) if count == 1 else (str(count) if count < 10 else "+")
                track[col] = (ch, idx)
            if lane.p90 is not None:
                at = col_of(lane.p90)
                free = [c for c in (at, *range(at + 1, plot_w), *range(at - 1, -1, -1)) if track[c][1] is None]
                if free:
                    track[free[0]] = (">", AXIS)
        rows.append(row + track)
    axis: list[tuple[str, int | None]] = [(" ", None)] * label_w
    axis += [(glyphs.corner, AXIS)] + [(glyphs.hline, AXIS)] * plot_w
    labels: list[tuple[str, int | None]] = [(" ", None)] * width
    for t in (0.0, t_max / 2, t_max):
        text = nice_seconds(t)
        start = min(max(x0 + col_of(t) - len(text) // 2, x0), width - len(text))
        for i, ch in enumerate(text):
            labels[start + i] = (ch, AXIS)
    return [*rows, axis, labels]


def strip_key(glyphs: Glyphs) -> str:
    """The strip's heading: what it shows and what its marks mean (it fits 80 columns)."""
    dot = "*" if glyphs.ascii else "·"
    return f"Time to pass: A a run {dot} 2-9 runs in a cell {dot} {glyphs.vline} mean {dot} > P90 (all runs)"


class TimeToPassStrip(Widget):
    """Time to pass of every passed run, one track per lane, with the mean and the P90."""

    COMPONENT_CLASSES = {"bench-strip--axis"} | {f"bench-strip--lane-{i}" for i in range(1, LANE_COLOURS + 1)}
    DEFAULT_CSS = "\n".join(
        [
            "TimeToPassStrip { height: auto; min-height: 3; }",
            "TimeToPassStrip > .bench-strip--axis { color: $lt-muted; }",
            *(
                f"TimeToPassStrip > .bench-strip--lane-{i} {{ color: $lt-lane-{i}; }}"
                for i in range(1, LANE_COLOURS + 1)
            ),
        ]
    )

    def __init__(self, glyphs: Glyphs, *, id: str | None = "bench-times") -> None:
        super().__init__(id=id)
        self.glyphs = glyphs
        self.lanes: list[LaneTimes] = []
        self.rows: list[str] = []

    def show(self, report: Report) -> None:
        self.lanes = lane_times(report)
        self.refresh(layout=True)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return len(self.lanes) + 2 if self.lanes else 1

    def render(self) -> Text:
        cells = strip_rows(self.lanes, self.content_size.width, self.glyphs)
        axis = self.get_component_rich_style("bench-strip--axis", partial=True)

        def style_of(key: CellKey) -> Style | None:
            (idx,) = key
            if idx is None or idx == AXIS:
                return None if idx is None else axis
            return self.get_component_rich_style(f"bench-strip--lane-{idx % LANE_COLOURS + 1}", partial=True) + Style(
                bold=True
            )

        text = cells_text(cells, style_of)
        self.rows = ["".join(ch for ch, _ in row) for row in cells]
        return text
