"""One plain line wrapped to a width at word boundaries, never mid-word.

A terminal folds a long line wherever its last column falls (``simul`` /
``ated``); these lines are cut at gaps instead, preferring the gaps that
separate the line's parts (`` │ `` first, then `` · ``, then any space) as long
as the line they end is at least half full, and the lines after the first are
indented (under the lane's name, past the clock), so the clock column stays
readable. A single word longer than the room is cut at the room: a cast's
lines must fit its width, and a terminal would cut it there anyway.
"""

from __future__ import annotations

import re

from rich.cells import cell_len

# Joins words that must stay on one line ("-1 broke"); printed as a space.
NBSP = "\u00a0"
# Gaps a line may break at, strongest first: a break drops the gap itself.
_GAP = re.compile(r" │ | · | +")
_STRENGTH = {" │ ": 3, " · ": 2}


def wrap_line(text: str, width: int, indent: int = 0) -> list[str]:
    """``text`` as lines of at most ``width`` cells, later ones indented by ``indent`` spaces."""
    width = max(width, 1)
    indent = min(max(indent, 0), width // 2)  # always room for words after the indent
    lines: list[str] = []
    prefix = ""
    rest = text
    while rest:
        room = width - len(prefix)
        if cell_len(rest) <= room:
            lines.append(prefix + rest)
            break
        fitting = [
            (m.start(), m.end(), _STRENGTH.get(m.group(), 1))
            for m in _GAP.finditer(rest)
            if m.start() > 0 and cell_len(rest[: m.start()]) <= room
        ]
        if fitting:
            full = [gap for gap in fitting if cell_len(rest[: gap[0]]) * 2 >= room] or fitting
            end, start, _ = max(full, key=lambda gap: (gap[2], gap[0]))
        else:
            end = start = _cut(rest, room)
        lines.append(prefix + rest[:end])
        rest = rest[start:].lstrip(" ")
        prefix = " " * indent
    return [line.replace(NBSP, " ") for line in lines] or [""]


def _cut(text: str, room: int) -> int:
    """Where ``text`` overflows ``room`` cells (at least one character, so a line always moves on)."""
    used = 0
    for i, char in enumerate(text):
        used += cell_len(char)
        if used > room:
            return max(i, 1)
    return len(text)
