"""Plain lines wrap at word boundaries to the terminal's width, never mid-word (issue 15 item 26)."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from collections.abc import Callable
from pathlib import Path

import pytest
from rich.cells import cell_len
from support.bench_events import Run, race
from support.pty_helpers import drain
from support.trace_helpers import lane_turns, started, write_trace

from loopterm.cli import main
from loopterm.events import Event, RaceDone
from loopterm.plain.wrap import NBSP, wrap_line

ANSI = re.compile(r"\x1b\[[0-9;?]*[a-zA-Z]")
LONG_NAME = "a-lane-named-simulated-quote-approval-long"


def long_race() -> list[Event]:
    """A race whose lines run past 80 columns: a long lane name, checks fixed and broken."""
    head = started(lanes=(LONG_NAME, "slow"), max_turns=4)
    body = sorted(
        [
            *lane_turns(LONG_NAME, 0.01, [["hello"], ["echo"], ["hello", "echo", "missing"]]),
            *lane_turns("slow", 0.02, [["hello"], ["hello", "echo"]], turn_s=1.3),
        ],
        key=lambda e: e.t,
    )
    return [head, *body, RaceDone(t=body[-1].t + 0.01)]


def long_bench() -> list[Event]:
    runs = [Run("a1", [0.5, 1.0]), Run("a2", [0.5, 0.7, 1.0]), Run("b1", [0.5, 1.0], name="B", model="b")]
    return race(runs)


def words(text: str) -> list[str]:
    """The words of ``text``, in order; a line broken at a " │ " or " · " leaves that separator out."""
    return [word for word in text.split() if word not in ("│", "·", "|", ".")]


def test_a_line_breaks_between_its_parts_first() -> None:
    line = (
        "[    1.7s] Fast diffusion (sim) run  1/10 PASS in 1.7 s after 2 turns │ 1/10 done · 1 passed · "
        "mean to pass 1.7 s │ 1/40 runs · ETA 11 s"
    )
    assert wrap_line(line, 80, indent=11) == [
        "[    1.7s] Fast diffusion (sim) run  1/10 PASS in 1.7 s after 2 turns",
        "           1/10 done · 1 passed · mean to pass 1.7 s │ 1/40 runs · ETA 11 s",
    ]
    header = "race 20261203-184802-22f0 · task quote-approval · 4 lanes · max 15 turns · simulated latencies ×0.2"
    assert wrap_line(header, 80, indent=2) == [
        "race 20261203-184802-22f0 · task quote-approval · 4 lanes · max 15 turns",
        "  simulated latencies ×0.2",
    ]


def test_words_are_never_cut_and_joined_words_stay_together() -> None:
    line = f"[   1.8s] Weak local (sim) turn  2/15 PARTIAL 36/47 #######... +1{NBSP}fixed -1{NBSP}broke"
    for width in range(40, 90):
        lines = wrap_line(line, width, indent=10)
        assert all(cell_len(x) <= width for x in lines), (width, lines)
        assert words(" ".join(lines)) == words(line.replace(NBSP, " "))  # every word whole, in order
        assert any("-1 broke" in x for x in lines) and all(x.rstrip() == x for x in lines)
        assert all(x.startswith(" " * 10) and not x[10].isspace() for x in lines[1:])


def test_only_a_word_longer_than_the_line_is_cut() -> None:
    assert wrap_line("ERROR: " + "x" * 30, 20, indent=4) == ["ERROR:", "    " + "x" * 16, "    " + "x" * 14]
    assert wrap_line("short", 80) == ["short"]


def terminal_output(argv: list[str], columns: int) -> str:
    """What ``loopterm ARGV`` prints on a real terminal ``columns`` wide, as a person at it sees it."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["TERM"] = "xterm-256color"
    proc = subprocess.Popen(
        [sys.executable, "-m", "loopterm", *argv], stdin=slave, stdout=slave, stderr=slave, env=env, close_fds=True
    )
    os.close(slave)
    try:
        out = drain(master, 60)
        assert proc.wait(timeout=60) == 0, out[-2000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return ANSI.sub("", out.decode()).replace("\r\n", "\n")


def lines_before_the_table(text: str) -> str:
    """The event lines: everything before the blank line the printers put above the table."""
    return text.split("\n\n")[0]


def piped(root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> str:
    """The plain replay through a pipe, where each line stays whole."""
    monkeypatch.delenv("COLUMNS", raising=False)
    assert main(["replay", "--plain", "--speed", "50", "--trace-dir", str(root)]) == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("events", [long_race, long_bench], ids=["race", "bench"])
def test_at_80_columns_a_terminal_shows_whole_words_on_lines_that_fit(
    events: Callable[[], list[Event]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = tmp_path / "traces"
    write_trace(root, events())
    whole = lines_before_the_table(piped(root, capsys, monkeypatch))
    assert max(map(cell_len, whole.splitlines())) > 80  # else the test would prove nothing
    shown = terminal_output(["replay", "--plain", "--speed", "50", "--trace-dir", str(root)], 80)
    assert max(map(cell_len, shown.splitlines())) <= 80, shown
    # The same words in the same order: a line cut mid-word ("simul" / "ated") would not match.
    assert words(lines_before_the_table(shown)) == words(whole)


def test_a_pipe_keeps_each_line_whole_whatever_columns_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Processes with no terminal inherit a COLUMNS nobody chose (a test runner's workers get 80).
    root = tmp_path / "traces"
    write_trace(root, long_race())
    whole = piped(root, capsys, monkeypatch)
    monkeypatch.setenv("COLUMNS", "80")
    assert main(["replay", "--plain", "--speed", "50", "--trace-dir", str(root)]) == 0
    assert capsys.readouterr().out == whole
    assert len(lines_before_the_table(whole).splitlines()) == 1 + 7  # the header and one line per event
