"""The console plain output goes to: its width, a closed output, and one line at a time.

Width: on a terminal, the terminal's (``COLUMNS`` overrides it, as rich
reads it), and lines wrap at word boundaries to it. Off a terminal (a pipe, a
file, a CI log) tables are 120 columns wide (rich would assume 80 and wrap
them) and each line stays whole, so ``grep`` sees one line per event.
``COLUMNS`` is not read there: processes with no terminal inherit one nobody
chose for them (a test runner's workers get ``COLUMNS=80``).

Every line goes through :func:`loopterm.sanitize.visible`: lane names, ids and
ERROR reasons come from lanes files, traces and providers, and an escape
sequence in them must not reach the terminal.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import IO, Any

from rich.console import Console

from loopterm.charset import AsciiTable, wants_ascii
from loopterm.plain.wrap import NBSP, wrap_line
from loopterm.sanitize import visible

PIPE_WIDTH = 120  # off a terminal


class OutputClosed(BrokenPipeError):
    """Our output went away: a closed pipe (``loopterm race --plain | head``) or a hung-up terminal."""


_ASCII_TABLE = AsciiTable()


class PlainConsole(Console):
    """rich's console, ASCII where the terminal wants it, no padding in pipes, a closed pipe raised.

    ``line_width``: the width plain lines wrap at (None: each stays whole).
    """

    line_width: int | None = None

    def _render_buffer(self, buffer: Any) -> str:
        text = super()._render_buffer(buffer)
        if not text.isascii() and wants_ascii():  # LANG=C, TERM=linux, LOOPTERM_ASCII=1: as the viewer
            text = text.translate(_ASCII_TABLE)
        if self.is_terminal:
            return text
        # Off a terminal (`| cat`, a file, a log) rich pads every table line to the full width
        # with spaces; nobody reading a pipe wants them, and diffs and greps trip on them.
        return "\n".join(line.rstrip(" ") for line in text.split("\n"))

    def on_broken_pipe(self) -> None:
        # rich would raise SystemExit from inside whichever lane printed; raise something
        # a printer can catch, and send later writes (and the final flush) to /dev/null.
        with_devnull(self.file)
        raise OutputClosed


def with_devnull(stream: object) -> None:
    """Point ``stream``'s file descriptor at /dev/null, so nothing more fails on it."""
    try:
        fd = stream.fileno()  # type: ignore[attr-defined]
        null = os.open(os.devnull, os.O_WRONLY)
    except (AttributeError, OSError, ValueError):
        return
    try:
        os.dup2(null, fd)
    except OSError:
        pass
    finally:
        os.close(null)


def plain_console(file: IO[str] | None = None, **options: Any) -> PlainConsole:
    """A console for plain output (stdout unless ``file``); see the module's note on widths.

    A closed output raises :class:`OutputClosed` (a BrokenPipeError) instead of
    rich's SystemExit, so a command can stop cleanly and say so.
    """
    stream = file if file is not None else sys.stdout
    terminal = stream.isatty()
    console = PlainConsole(file=file, highlight=False, width=None if terminal else PIPE_WIDTH, **options)
    if terminal:
        console.line_width = console.width
    return console


def line_width(console: Console, wrap: bool | None) -> int | None:
    """Where a printer's lines wrap: ``wrap`` None leaves it to the console (see :func:`plain_console`),
    True wraps at the console's width (a cast, whose lines must fit), False never wraps."""
    if wrap is None:
        return getattr(console, "line_width", None)
    return console.width if wrap else None


def print_line(console: Console, text: str, *, width: int | None, indent: int = 0) -> None:
    """One plain line: no markup, no emoji codes, every control character shown (``^[``), never sent;
    wrapped at word boundaries to ``width`` (None: whole) with later lines indented by ``indent``."""
    text = visible(text)
    lines = [text.replace(NBSP, " ")] if width is None else wrap_line(text, width, indent)
    console.print("\n".join(lines), markup=False, highlight=False, emoji=False, soft_wrap=True)


class ClosableOutput:
    """A printing sink that stops quietly, once, when its output goes away.

    ``on_closed`` is called then (the commands stop the race with it, so the
    trace still ends cleanly); every later event is only kept, not printed.
    """

    closed: bool = False
    on_closed: Callable[[], None] | None = None

    def guarded(self, show: Callable[[], None]) -> None:
        if self.closed:
            return
        try:
            show()
        except OSError:  # OutputClosed, a broken pipe, EIO from a hung-up terminal
            self.closed = True
            if self.on_closed is not None:
                self.on_closed()
