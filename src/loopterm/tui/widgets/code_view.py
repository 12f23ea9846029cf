"""A candidate's code, highlighted and numbered, drawn only where it is on screen.

A ``Static`` holding Rich's ``Syntax`` highlighted and wrapped the whole file
each time the screen was laid out (about 0.1 s for the 270-line reference, and
opening the lane's detail lays it out several times), so ``Enter`` on a lane
took about half a second to draw. Here the work before the first paint is
bounded by the screen, not the file: the rows are counted from the plain text
(cell widths only), Pygments' token stream is read only as far as the last
line shown (it is a generator, so scrolling down reads on from there), and
each row is rendered when Textual asks for it (Textual's line API).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from pygments.lexers import PythonLexer
from rich.cells import cell_len, get_character_cell_size
from rich.segment import Segment
from rich.style import Style
from rich.syntax import Syntax, SyntaxTheme
from rich.text import Text
from textual.cache import LRUCache
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

TAB_SIZE = 4
GUTTER_PAD = 1  # cells between a line's number and its code


def warm_up() -> None:
    """Compile the lexer's rules (~0.1 s, once a process), so the first lane opened is as quick as the next.

    Run off the event loop (a thread worker) when the viewer starts.
    """
    PythonLexer()


class LazyHighlight:
    """The lines of ``source``, highlighted as far as they have been asked for.

    ``theme`` None: plain lines (a message, not code). A line the lexer has
    not reached yet is never shown unhighlighted: ``line(n)`` lexes up to it.
    """

    def __init__(self, source: str, theme: SyntaxTheme | None) -> None:
        self.plain = source.split("\n")
        self.theme = theme
        self.lines: list[Text] = []  # highlighted so far
        self._current = Text()
        self._tokens: Iterator[tuple[Any, str]] | None = None
        if theme is not None:
            # stripnl off: leading blank lines are part of the file and of its numbering.
            self._tokens = iter(PythonLexer(stripnl=False, ensurenl=False).get_tokens(source))

    def __len__(self) -> int:
        return len(self.plain)

    def line(self, n: int) -> Text:
        if self.theme is None:
            return Text(self.plain[n])
        while self._tokens is not None and len(self.lines) <= n:
            token = next(self._tokens, None)
            if token is None:
                self.lines.append(self._current)
                self._tokens = None
                break
            kind, value = token
            style = self.theme.get_style_for_token(kind)
            for i, part in enumerate(value.split("\n")):
                if i:
                    self.lines.append(self._current)
                    self._current = Text()
                if part:
                    self._current.append(part, style)
        return self.lines[n] if n < len(self.lines) else Text(self.plain[n])


def fold_points(text: str, width: int) -> list[int]:
    """Where a line of ``text`` folds to fit ``width`` cells: the character offset each row starts at.

    A row ends after its last space when that keeps at least half of it (words stay
    whole), else at the width itself (a long name or string is cut anywhere).
    """
    if width <= 0 or cell_len(text) <= width:
        return [0]
    starts, start, cells, space = [0], 0, 0, -1
    for i, char in enumerate(text):
        size = get_character_cell_size(char)
        if cells + size > width and i > start:
            cut = space + 1 if space >= 0 and cell_len(text[start : space + 1]) * 2 >= width else i
            starts.append(cut)
            start, cells, space = cut, cell_len(text[cut:i]), -1
        if char == " ":
            space = i
        cells += size
    return starts


class CodeView(ScrollView, can_focus=True):
    """Highlighted code with line numbers; long lines fold onto rows under their number."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"code-view--gutter"}
    DEFAULT_CSS = """
    CodeView { background: $surface; }
    CodeView > .code-view--gutter { color: $text-muted; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.code = ""  # what is shown (code or a message), for tests and screen readers
        self.numbered = False
        self._dark: bool | None = None
        self._lines = LazyHighlight("", None)
        self._rows: list[tuple[int, int, int]] = []  # (line, first char, end char) of each row
        self._rows_width = -1
        self._strips: LRUCache[tuple[int, int], Strip] = LRUCache(1024)

    def show_code(self, source: str, dark: bool) -> None:
        """Show ``source`` (already made safe to show) as Python; nothing to do when it is on screen."""
        self._show(source, dark, numbered=True)

    def show_message(self, message: str) -> None:
        """Plain words instead of code ("No candidate yet.")."""
        self._show(message, None, numbered=False)

    def _show(self, text: str, dark: bool | None, numbered: bool) -> None:
        text = text.expandtabs(TAB_SIZE)
        if (text, dark, numbered) == (self.code, self._dark, self.numbered):
            return
        self.code, self._dark, self.numbered = text, dark, numbered
        theme = Syntax.get_theme("ansi_dark" if dark else "ansi_light") if numbered else None
        self._lines = LazyHighlight(text, theme)
        self._rows_width = -1
        self._strips.clear()
        # Until the width is known, one row a line: the scrollbar shows from the first frame.
        self.virtual_size = Size(self.virtual_size.width, len(self._lines))
        self.refresh()

    def on_resize(self) -> None:
        self._strips.clear()
        self._fold(self.scrollable_content_region.width)

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()  # the theme's colours changed the gutter and background

    @property
    def highlighted_lines(self) -> list[Text]:
        """The lines highlighted so far (the lexer reads on only as far as the view has shown)."""
        return self._lines.lines

    @property
    def gutter_width(self) -> int:
        return len(str(len(self._lines))) + GUTTER_PAD if self.numbered else 0

    def _fold(self, width: int) -> list[tuple[int, int, int]]:
        if width != self._rows_width:
            room = max(1, width - self.gutter_width)
            rows = []
            for n, plain in enumerate(self._lines.plain):
                starts = fold_points(plain, room)
                rows += [(n, start, end) for start, end in zip(starts, [*starts[1:], len(plain)], strict=True)]
            self._rows, self._rows_width = rows, width
            self.virtual_size = Size(width, len(rows))
        return self._rows

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        rows = self._fold(width)
        index = self.scroll_offset.y + y
        base = self.rich_style
        if index >= len(rows):
            return Strip.blank(width, base)
        key = (index, width)
        strip = self._strips.get(key)
        if strip is None:
            strip = self._strips[key] = self._render_row(rows[index], width, base)
        return strip

    def _render_row(self, row: tuple[int, int, int], width: int, base: Style) -> Strip:
        n, start, end = row
        text = Text(no_wrap=True)
        if self.numbered:
            number = str(n + 1) if start == 0 else ""
            gutter = self.get_component_rich_style("code-view--gutter", partial=True)
            text.append(number.rjust(self.gutter_width - GUTTER_PAD) + " " * GUTTER_PAD, gutter)
        text.append_text(self._lines.line(n)[start:end])
        segments = Segment.apply_style(text.render(self.app.console), base)
        return Strip(segments).crop_extend(0, width, base)
