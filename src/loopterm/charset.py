"""When to draw in plain ASCII, and how: one rule for the viewer and the plain output.

ASCII is chosen when asked (``LOOPTERM_ASCII=1``), on a terminal known to lack
box and block characters (the Linux console, vt100, dumb), or when the locale
says the terminal cannot show them (``LC_ALL``/``LC_CTYPE``/``LANG``, the first
one set, naming ``C``, ``POSIX`` or a charset other than UTF-8). With none of
those set, Unicode stays. Every other character is rewritten one cell for one
cell, so a layout does not move.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Mapping

from rich.cells import cell_len

ASCII_TERMS = {"linux", "vt100", "vt102", "vt220", "dumb"}


def wants_ascii(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    if env.get("LOOPTERM_ASCII", "").strip() not in ("", "0"):
        return True
    if env.get("TERM", "") in ASCII_TERMS:
        return True
    locale = next((env[name] for name in ("LC_ALL", "LC_CTYPE", "LANG") if env.get(name)), "")
    if not locale:
        return False
    charset = locale.partition(".")[2].partition("@")[0].lower().replace("-", "")
    return locale in ("C", "POSIX") or charset not in ("utf8",)


# Characters the viewer (or Textual) draws, in ASCII. A cut line ends in ">" (as
# vim marks a line that goes on), not "~", which marks estimated token counts.
_ASCII_FOR = {
    "…": ">",
    "·": "-",
    "—": "-",
    "–": "-",
    "•": "*",
    "⏎": ">",
    "▏": "|",
    "▕": "|",
    "█": "#",
    "░": ".",
    "▒": ":",
    "▓": "#",
    "▀": "-",
    "▄": "_",
    "▌": "|",
    "▐": "|",
    "×": "x",
    "−": "-",
    "→": ">",
    "←": "<",
    "↑": "^",
    "↓": "v",
    "✓": "v",
    "✗": "x",
    "≥": ">",
    "≤": "<",
}


def ascii_for(char: str) -> str:
    if char.isascii():
        return char
    if char in _ASCII_FOR:
        return _ASCII_FOR[char]
    name = unicodedata.name(char, "")
    if "BOX DRAWINGS" in name or name.startswith(("LEFT ", "RIGHT ", "UPPER ", "LOWER ")):
        vertical, horizontal = "VERTICAL" in name, "HORIZONTAL" in name
        if vertical != horizontal:
            return "|" if vertical else "-"
        if "BOX DRAWINGS" in name and name.endswith((" LEFT", " RIGHT")):  # half lines (tab underlines)
            return "-"
        if "BOX DRAWINGS" in name and name.endswith((" UP", " DOWN")):
            return "|"
        if "EIGHTH" in name or "BLOCK" in name:  # scrollbars and sparkline levels
            return "|" if ("LEFT" in name or "RIGHT" in name) else "_"
        return "+"
    return "?" * max(1, cell_len(char))  # a wide glyph keeps its width


class AsciiTable(dict[int, str]):
    """A ``str.translate`` table that fills itself: every character, in ASCII."""

    def __missing__(self, code: int) -> str:
        value = self[code] = ascii_for(chr(code))
        return value
