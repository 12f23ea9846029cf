"""Plain output read through a pipe: no lines padded with spaces, no blank first line."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.trace_helpers import hand_race, write_trace

from loopterm.cli import main


@pytest.mark.parametrize("command", [["traces"], ["report"], ["replay", "--plain"]])
def test_piped_tables_have_no_trailing_spaces_and_no_leading_blank_line(
    command: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "traces"
    write_trace(root, hand_race())
    assert main([*command, "--trace-dir", str(root)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines and lines[0].strip(), lines[:3]
    padded = [line for line in lines if line != line.rstrip(" ")]
    assert padded == [], padded[:3]
