"""`loopterm lanes` says where the lanes file lives; `--check` says when it checked nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from loopterm.cli import main


def test_the_listing_names_the_lanes_file_even_before_it_exists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOOPTERM_CONFIG_DIR", str(tmp_path / "config"))
    assert main(["lanes", "sim:mini"]) == 0
    out = capsys.readouterr().out.rstrip().splitlines()
    where = tmp_path / "config" / "lanes.toml"
    note = "none yet; add [[lanes]] tables there, see the README"
    # One line where it fits the terminal, else the path on a line of its own.
    assert out[-1] == f"lanes file: {where} ({note})" or out[-2:] == [f"lanes file ({note}):", f"  {where}"]


def test_the_listing_counts_the_lanes_of_the_file_given(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lanes = tmp_path / "mine.toml"
    lanes.write_text('[[lanes]]\nname = "Mine"\nprovider = "sim"\nmodel = "mini"\n')
    assert main(["lanes", "--lanes", str(lanes)]) == 0
    out = capsys.readouterr().out.rstrip().splitlines()
    # One line where it fits the terminal, else the path on a line of its own.
    assert out[-1] == f"lanes file: {lanes} (1 lane)" or out[-2:] == ["lanes file (1 lane):", f"  {lanes}"]


def test_check_with_only_simulated_lanes_says_nothing_was_checked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("LOOPTERM_CONFIG_DIR", str(tmp_path / "config"))
    assert main(["lanes", "--check", "sim:mini", "sim:frontier"]) == 0
    err = capsys.readouterr().err
    assert err.strip() == (
        "loopterm: nothing was checked: simulated lanes need no check and no other lane is ready (see DETAIL)"
    )
