"""The few non-ASCII characters the viewer draws, with an ASCII fallback.

Only block elements and light box lines are used (every monospace font and
tmux have them; Textual draws its borders with the same).
``LOOPTERM_ASCII=1``, or a terminal known to lack them (the Linux console),
switches to plain ASCII.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Glyphs:
    bar_full: str
    bar_empty: str
    spark: str  # levels from lowest to highest
    hline: str
    vline: str
    corner: str
    ascii: bool = False

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


UNICODE = Glyphs(bar_full="█", bar_empty="░", spark="▁▂▃▄▅▆▇█", hline="─", vline="│", corner="└")
ASCII = Glyphs(bar_full="#", bar_empty=".", spark="_.-=+*#", hline="-", vline="|", corner="+", ascii=True)

_ASCII_TERMS = {"linux", "vt100", "vt102", "vt220", "dumb"}


def choose_glyphs(environ: dict[str, str] | os._Environ[str] | None = None) -> Glyphs:
    env = os.environ if environ is None else environ
    if env.get("LOOPTERM_ASCII", "").strip() not in ("", "0"):
        return ASCII
    if env.get("TERM", "") in _ASCII_TERMS:
        return ASCII
    return UNICODE
