"""Repaint only what changed: the cells where two pictures of a widget's lines differ.

A ticking timer changes a digit or two of one line; the rest of its pane is
the same. ``changed_regions`` compares the lines last handed to Textual with
the new ones and returns the regions (relative to the widget's content) to
pass to ``Widget.refresh``: Textual then renders those lines again and its
compositor writes only those cells to the terminal.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.geometry import Region


def _same(a: Text, b: Text) -> bool:
    return a.plain == b.plain and a.spans == b.spans and a.style == b.style


def _simple(text: Text) -> bool:
    """One cell per character, so a character's index is its column."""
    return text.cell_len == len(text.plain)


def changed_columns(old: Text, new: Text, width: int) -> tuple[int, int] | None:
    """The columns ``[start, end)`` in which ``new`` looks different from ``old``; None if it looks the same.

    Narrowed to the changed characters when both lines have one cell per
    character and the same styles in the same places (a timer's "12.3 s" to
    "12.4 s"); otherwise the whole line.
    """
    if _same(old, new):
        return None
    if not (old.spans == new.spans and old.style == new.style and _simple(old) and _simple(new)):
        return (0, width)
    a, b = old.plain, new.plain
    start = 0
    shortest = min(len(a), len(b))
    while start < shortest and a[start] == b[start]:
        start += 1
    if len(a) != len(b):  # the text moved: everything from the first difference on
        return (start, min(width, max(len(a), len(b))))
    end = len(a)
    while end > start and a[end - 1] == b[end - 1]:
        end -= 1
    return (start, min(width, end))


def changed_regions(old: Sequence[Text], new: Sequence[Text], width: int) -> list[Region]:
    """The regions, one per changed line at most, where ``new`` lines differ from ``old`` ones."""
    regions = []
    blank = Text()
    for y in range(max(len(old), len(new))):
        before = old[y] if y < len(old) else blank
        after = new[y] if y < len(new) else blank
        columns = changed_columns(before, after, width)
        if columns is not None and columns[1] > columns[0]:
            regions.append(Region(columns[0], y, columns[1] - columns[0], 1))
    return regions
