"""ASCII when the terminal or the locale cannot show box characters: one rule, viewer and plain output."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.trace_helpers import hand_race, write_trace

from loopterm.charset import wants_ascii
from loopterm.cli import main


@pytest.mark.parametrize(
    ("env", "ascii"),
    [
        ({}, False),
        ({"LANG": "en_AU.UTF-8"}, False),
        ({"LANG": "C.UTF-8"}, False),
        ({"LC_ALL": "en_US.utf8"}, False),
        ({"LANG": "C", "LC_ALL": "C"}, True),
        ({"LC_ALL": "POSIX"}, True),
        ({"LANG": "en_US.ISO-8859-1"}, True),
        ({"LC_ALL": "C", "LANG": "en_US.UTF-8"}, True),  # LC_ALL wins
        ({"LC_CTYPE": "en_US.UTF-8", "LANG": "C"}, False),  # LC_CTYPE before LANG
        ({"TERM": "linux"}, True),
        ({"LOOPTERM_ASCII": "1", "LANG": "en_US.UTF-8"}, True),
        ({"LOOPTERM_ASCII": "0"}, False),
    ],
)
def test_when_to_draw_in_ascii(env: dict[str, str], ascii: bool) -> None:
    assert wants_ascii(env) is ascii


def test_plain_output_under_the_c_locale_is_ascii(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "traces"
    write_trace(root, hand_race())
    for name in ("LC_ALL", "LC_CTYPE", "LANG"):
        monkeypatch.setenv(name, "C")
    assert main(["report", "--trace-dir", str(root)]) == 0
    assert main(["replay", "--plain", "--trace-dir", str(root)]) == 0
    out = capsys.readouterr().out
    assert out.isascii(), sorted({c for c in out if not c.isascii()})
    assert " - task mini - " in out  # the separators, drawn as ASCII
