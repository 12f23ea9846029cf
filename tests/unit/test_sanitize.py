"""The one sanitiser: every control, C1 and spoofing format character shown, nothing else changed."""

from __future__ import annotations

import sys
import time
import timeit
import unicodedata

import pytest
from rich.color import Color
from rich.segment import Segment
from rich.style import Style

from loopterm.sanitize import FORMAT_RANGES, KEPT_FORMAT, visible
from loopterm.tui.glyphs import VisibleFilter


def test_escape_sequences_lose_their_escape() -> None:
    assert visible("\x1b]52;c;aGk=\x07") == "^[]52;c;aGk=^G"  # OSC 52: write the clipboard
    assert visible("\x1b]0;pwned\x07") == "^[]0;pwned^G"  # the window title
    assert visible("\x1b[2J\x1b[H") == "^[[2J^[[H"  # clear the screen, cursor home
    assert visible("\x1b[32mPASS\x1b[0m") == "^[[32mPASS^[[0m"  # a fake green PASS
    assert visible("\x9b2J") == "\\x9b2J"  # the one-byte C1 CSI: some terminals obey it
    assert visible("\x9d52;c;aGk=\x9c") == "\\x9d52;c;aGk=\\x9c"  # C1 OSC ... ST


def test_every_c0_control_in_caret_notation_and_del() -> None:
    assert visible("".join(map(chr, range(0x20)))) == "".join(f"^{chr(c + 0x40)}" for c in range(0x20))
    assert visible("\x00\x07\x08\x1b\x7f") == "^@^G^H^[^?"
    assert visible("".join(map(chr, range(0x80, 0xA0)))) == "".join(f"\\x{c:02x}" for c in range(0x80, 0xA0))


def test_overwrite_tricks_show_every_character() -> None:
    assert visible("FAIL\rPASS") == "FAIL^MPASS"  # a CR would print PASS over FAIL
    assert visible("FAIL\b\b\b\bPASS") == "FAIL^H^H^H^HPASS"
    assert visible("ok\x1b[1A\x1b[2KPASS") == "ok^[[1A^[[2KPASS"  # cursor up, erase line


def test_bidi_and_hiding_format_characters_are_named() -> None:
    assert visible("\u202eSSAP\u202c") == "<U+202E>SSAP<U+202C>"  # right-to-left override
    assert visible("a\u2066b\u2069") == "a<U+2066>b<U+2069>"  # isolates
    assert visible("\u200e\u200f\u061c") == "<U+200E><U+200F><U+061C>"  # direction marks
    assert visible("pa\u200bss\ufeff") == "pa<U+200B>ss<U+FEFF>"  # zero-width space, BOM
    assert visible("x\U000e0041\U000e007f") == "x<U+E0041><U+E007F>"  # tag characters: hidden text
    assert visible("a\u2028b\u2029") == "a<U+2028>b<U+2029>"  # line and paragraph separators
    assert visible("bad\udcffdecode") == "bad<U+DCFF>decode"  # a lone surrogate


def test_newlines_and_tabs_only_when_asked() -> None:
    text = "line 1\n\tline 2\r\nline 3\rPASS"
    assert visible(text) == "line 1^J^Iline 2^M^Jline 3^MPASS"  # one line, always
    assert visible(text, multiline=True) == "line 1\n\tline 2\nline 3^MPASS"  # CRLF ends a line; a lone CR shows
    assert visible("\x1b[2J\n", multiline=True) == "^[[2J\n"


def test_everything_else_is_kept_as_it_is() -> None:
    text = "Fast diffusion (sim) · 47/47 ██▇▁ … café naïve 日本語 עברית مرحبا 👍🏽 [red]x[/] ^[ \\x1b"
    assert visible(text) is text  # printable: returned at once, not copied
    joined = "👨\u200d👩\u200d👧 क्\u200dष می\u200cخواهم"  # ZWJ and ZWNJ join emoji and shape words
    assert visible(joined) == joined
    assert visible("") == ""


def test_twice_is_the_same_as_once() -> None:
    text = "".join(map(chr, range(0xA0))) + "\u202e\u2066\u200b\ufeff\U000e0041\u2028\ud800"
    for multiline in (False, True):
        once = visible(text, multiline=multiline)
        assert visible(once, multiline=multiline) == once
        assert once.isprintable() or (multiline and once.replace("\n", "").replace("\t", "").isprintable())


def test_every_format_character_this_python_knows_is_covered() -> None:
    covered = {code for low, high in FORMAT_RANGES for code in range(low, high + 1)}
    known = {code for code in range(sys.maxunicode + 1) if unicodedata.category(chr(code)) == "Cf"}
    assert known - covered == set()  # a newer Unicode's new ones: add them to FORMAT_RANGES
    for code in covered - KEPT_FORMAT:
        assert visible(chr(code)) == f"<U+{code:04X}>"
        assert not chr(code).isprintable()  # so the printable fast path can never skip one


def test_fast_on_a_repaint_sized_text() -> None:
    line = "- logic.rounding_half_up  expected total 10.05, got 10.04 " * 4
    dirty = line + "\x1b[2J\u202e"
    # Clean text costs one isprintable; dirty text one translate: both far below a frame's 40 ms.
    # CPU time, not the wall clock: other processes on a busy machine do not add to it.
    assert timeit.timeit(lambda: visible(line), number=2000, timer=time.process_time) < 0.05
    assert timeit.timeit(lambda: visible(dirty), number=2000, timer=time.process_time) < 0.5


@pytest.mark.parametrize("multiline", [False, True])
def test_keyword_only(multiline: bool) -> None:
    with pytest.raises(TypeError):
        visible("x", multiline)  # type: ignore[misc]
    assert visible("a\tb", multiline=multiline) == ("a\tb" if multiline else "a^Ib")


def test_the_viewers_line_filter_shows_what_a_widget_missed() -> None:
    style = Style(bold=True)
    segments = [Segment("ok "), Segment("\x1b]52;c;aGk=\x07", style), Segment("\u202eSSAP")]
    out = VisibleFilter().apply(segments, Color.parse("black"))
    assert [s.text for s in out] == ["ok ", "^[]52;c;aGk=^G", "<U+202E>SSAP"]
    assert out[0] is segments[0] and out[1].style == style  # clean segments untouched, styles kept
