"""The few non-ASCII characters the viewer draws, with an ASCII fallback.

Only block elements and light box lines are used (every monospace font and
tmux have them; Textual draws its borders with the same).
``LOOPTERM_ASCII=1``, or a terminal known to lack them (the Linux console),
switches to plain ASCII: our own bars and sparklines use ``ASCII``, and
``AsciiFilter`` rewrites whatever else would still reach the screen (Rich's
``…`` when a line is cut, ``·`` separators, Textual's footer and tabs, the
palette's icon) cell for cell, so the layout does not move.

``VisibleFilter`` is the viewer's last line of defence against text from
outside: every part of the viewer already draws such text through
:func:`loopterm.sanitize.visible`, and the filter applies the same function to
whatever still reaches a line with a control character in it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from rich.segment import Segment
from textual.color import Color
from textual.filter import LineFilter

from loopterm.charset import AsciiTable, wants_ascii
from loopterm.sanitize import visible


@dataclass(frozen=True)
class Glyphs:
    bar_full: str
    bar_empty: str
    spark: str  # levels from lowest to highest
    hline: str
    vline: str
    corner: str
    ascii: bool = False
    vbreak: str = ":"  # a cut in a chart's axis

    def bar(self, fraction: float, width: int) -> tuple[str, str]:
        """The filled and empty parts of a bar ``width`` cells wide."""
        width = max(0, width)
        fraction = min(1.0, max(0.0, fraction))
        filled = round(fraction * width)
        if 0 < fraction < 1:  # never show a nearly done bar as done, or a started one as empty
            filled = min(max(filled, 1), width - 1) if width > 1 else filled
        return self.bar_full * filled, self.bar_empty * (width - filled)

    def sparkline(self, values: list[float], width: int) -> str:
        """One cell per value on an absolute 0..1 scale, the latest ``width`` values.

        Levels round down, so only a full score gets the full block.
        """
        if width <= 0:
            return ""
        top = len(self.spark) - 1
        cells = []
        for value in values[-width:]:
            value = min(1.0, max(0.0, value))
            cells.append(self.spark[top if value >= 1 else int(value * top)])
        return "".join(cells)

    def spark_rows(
        self, values: list[float], rows: int, cell_width: int = 1, gap: int = 0, floor: float = 0.0
    ) -> list[str]:
        """A sparkline ``rows`` tall (top row first), each value a column ``cell_width`` cells wide.

        The scale runs from ``floor`` (the foot) to 1.0 (the top) in ``rows`` times
        the steps of :meth:`sparkline`: a value's height rounds down (only a full
        score reaches the top), and every value shows at least the lowest step
        (at or below the floor too), so each turn is seen.
        """
        steps = len(self.spark)
        rows = max(1, rows)
        span = max(1e-9, 1.0 - floor)
        heights = [
            rows * steps if value >= 1 else max(1, int(max(0.0, value - floor) / span * rows * steps))
            for value in values
        ]
        lines = []
        for row in range(rows - 1, -1, -1):  # from the top
            cells = []
            for height in heights:
                level = min(steps, height - row * steps)
                cells.append((self.spark[level - 1] if level > 0 else " ") * cell_width)
            lines.append((" " * gap).join(cells))
        return lines


UNICODE = Glyphs(bar_full="█", bar_empty="░", spark="▁▂▃▄▅▆▇█", hline="─", vline="│", corner="└", vbreak="┊")
ASCII = Glyphs(bar_full="#", bar_empty=".", spark="_.-=+*#", hline="-", vline="|", corner="+", ascii=True)


def choose_glyphs(environ: dict[str, str] | os._Environ[str] | None = None) -> Glyphs:
    return ASCII if wants_ascii(environ) else UNICODE


class AsciiFilter(LineFilter):
    """Rewrites every non-ASCII character on screen, one cell for one cell."""

    def __init__(self, enabled: bool = True) -> None:
        super().__init__(enabled)
        self._table = AsciiTable()

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [
            segment
            if segment.text.isascii()
            else Segment(segment.text.translate(self._table), segment.style, segment.control)
            for segment in segments
        ]


class VisibleFilter(LineFilter):
    """Shows any control or format character still on a line visibly (``^[``), never sends it.

    The widgets make outside text visible before they lay it out; this only
    catches what one of them missed (a line it changes may then be a little
    longer than its widget). A line of printable text costs one ``isprintable``.
    """

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        return [
            segment
            if segment.control or segment.text.isprintable()
            else Segment(visible(segment.text), segment.style, segment.control)
            for segment in segments
        ]
