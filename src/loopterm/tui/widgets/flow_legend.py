"""A legend of items (a chart's lanes and marks) on as many lines as the width needs.

One line cut with an ellipsis hid every lane after the third at 80 columns;
this lays the items out again whenever its width changes.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.widgets import Static

GAP = 3  # spaces between items on a line


def flow(items: Sequence[Text], width: int, gap: int = GAP) -> Text:
    """``items`` on as many lines as they need at ``width``, ``gap`` spaces apart; an item wider
    than a whole line is cut with an ellipsis."""
    text = Text(no_wrap=True, overflow="ellipsis")
    used = 0
    for item in items:
        if used and used + gap + item.cell_len > width:
            text.append("\n")
            used = 0
        elif used:
            text.append(" " * gap)
            used += gap
        text.append_text(item)
        used += item.cell_len
    return text


class FlowLegend(Static):
    """Items laid out to the widget's own width (scrollbars and padding allowed for)."""

    DEFAULT_CSS = "FlowLegend { height: auto; }"

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.items: list[Text] = []

    def show(self, items: Sequence[Text]) -> None:
        self.items = list(items)
        self._lay_out()

    def on_resize(self) -> None:
        self._lay_out()

    def _lay_out(self) -> None:
        width = self.content_size.width or self.app.size.width
        self.update(flow(self.items, width))
