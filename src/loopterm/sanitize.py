"""Text from outside, made safe to show on a terminal: every control character visible.

Model answers, candidate code and output, check messages, provider and server
error text, lane names from a lanes file and anything read back from a trace
come from outside loopterm. Printed raw, an escape sequence in them could
write the clipboard (OSC 52), retitle the window, clear the screen, move the
cursor to paint a fake green PASS, or reorder a line with a bidi override.
Everything that shows such text on a terminal (the plain printers, the
viewer, ``validate``, ``lanes``, ``report``, the cast export) passes it
through :func:`visible` first. Traces keep the raw text: this runs at display
time only.

Plain Python (no Rich, no Textual), one ``str.translate`` with a precomputed
table, and text with nothing to change returns at once: it runs on every
repaint.
"""

from __future__ import annotations

__all__ = ["FORMAT_RANGES", "KEPT_FORMAT", "visible"]

# Unicode's format characters (category Cf, as of Unicode 16), whole ranges: invisible
# characters that steer how text around them is shown. The bidi embeddings, overrides and
# isolates (U+202A-202E, U+2066-2069) and marks (U+200E, U+200F, U+061C) reorder a line
# ("PASS" drawn where "SSAP" was written); the zero-width ones (U+200B, U+2060, U+FEFF) and
# the tag characters (U+E0000-E007F, "ASCII smuggling") hide text in plain sight.
FORMAT_RANGES: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),
    (0x0600, 0x0605),
    (0x061C, 0x061C),
    (0x06DD, 0x06DD),
    (0x070F, 0x070F),
    (0x0890, 0x0891),
    (0x08E2, 0x08E2),
    (0x180E, 0x180E),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x2064),
    (0x2066, 0x206F),
    (0xFEFF, 0xFEFF),
    (0xFFF9, 0xFFFB),
    (0x110BD, 0x110BD),
    (0x110CD, 0x110CD),
    (0x13430, 0x1343F),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0001, 0xE0001),
    (0xE0020, 0xE007F),
)
# Format characters kept as they are: the zero-width non-joiner and joiner (U+200C, U+200D)
# shape Persian and Indic words and join emoji sequences; they cannot reorder or hide text.
KEPT_FORMAT = frozenset({0x200C, 0x200D})
_SEPARATORS = (0x2028, 0x2029)  # LINE and PARAGRAPH SEPARATOR: line breaks to some, not to others
_SURROGATES = range(0xD800, 0xE000)  # lone surrogates (a bad decode): unprintable, and no UTF-8 for them


def _table(multiline: bool) -> dict[int, str]:
    table = {code: "^" + chr(code + 0x40) for code in range(0x20)}  # ^@ ^A ... ^[ (ESC) ... ^_
    table[0x7F] = "^?"
    table.update({code: f"\\x{code:02x}" for code in range(0x80, 0xA0)})  # C1: \x9b (CSI), \x9d (OSC) ...
    for low, high in FORMAT_RANGES:
        table.update({code: f"<U+{code:04X}>" for code in range(low, high + 1) if code not in KEPT_FORMAT})
    table.update({code: f"<U+{code:04X}>" for code in (*_SEPARATORS, *_SURROGATES)})
    if multiline:
        del table[0x09], table[0x0A]
    return table


_ONE_LINE = _table(multiline=False)
_MULTI_LINE = _table(multiline=True)


def visible(text: str, *, multiline: bool = False) -> str:
    """``text`` with every character that could steer a terminal shown as printable text.

    What changes:

    - C0 controls U+0000-001F in caret notation: ESC is ``^[``, BEL ``^G``,
      backspace ``^H``, CR ``^M`` (so ``FAIL\\rPASS`` cannot overwrite itself),
      newline ``^J``, tab ``^I``; DEL (U+007F) is ``^?``.
    - C1 controls U+0080-009F as Python escapes: the one-byte CSI is ``\\x9b``,
      OSC ``\\x9d``, NEL ``\\x85``.
    - Format characters that reorder or hide text (bidi overrides, embeddings,
      isolates and marks, zero-width spaces, the BOM, soft hyphens, tag
      characters: see ``FORMAT_RANGES``), U+2028/U+2029 and lone surrogates
      as ``<U+202E>``.

    What is kept: every other character, Unicode letters, symbols, emoji and
    combining marks included, and the zero-width joiner and non-joiner
    (``KEPT_FORMAT``). With ``multiline=True`` newlines and tabs are kept
    too, and a CRLF line end becomes a newline (a lone CR still shows as
    ``^M``); without it the result is always one line.

    A literal ``^[`` in the text reads the same as an escaped ESC: the point is
    that nothing reaches the terminal as a control, not a reversible encoding.
    The result contains no character this function would change, so applying
    it twice is the same as once.
    """
    if text.isprintable():  # no control, format or separator character at all: nothing to do
        return text
    if multiline:
        if "\r\n" in text:
            text = text.replace("\r\n", "\n")
        return text.translate(_MULTI_LINE)
    return text.translate(_ONE_LINE)
