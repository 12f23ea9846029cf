"""The live viewer on a real terminal: a dropped SSH session (SIGHUP) or a SIGTERM ends the race cleanly.

The race runs in a child process on a pseudo-terminal, so it takes the full-screen
path the CLI takes for a person; the signal must leave a complete trace marked
aborted (every lane closed, the end record written) and give the terminal back.
"""

from __future__ import annotations

import fcntl
import os
import pty
import signal
import subprocess
import sys
import termios
from collections.abc import Callable
from pathlib import Path

import pytest
from support.processes import children
from support.pty_helpers import drain, read_until

from loopterm.events import LaneDone, Outcome, RaceDone
from loopterm.traces.reader import read_race


def _race_on_a_pty(
    tmp_path: Path, *lanes: str, preexec_fn: Callable[[], None] | None = None
) -> tuple[subprocess.Popen[bytes], int]:
    """``loopterm race LANES --time-scale 1`` full screen on a new 100x30 pty; the process and the master."""
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "loopterm", "race", *lanes, "--time-scale", "1", "--trace-dir", str(tmp_path)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        close_fds=True,
        preexec_fn=preexec_fn,
    )
    os.close(slave)
    return proc, master


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM], ids=["SIGHUP", "SIGTERM"])
def test_a_signal_stops_the_live_viewer_and_the_trace_ends_aborted(tmp_path: Path, signum: int) -> None:
    # At time scale 1 the frontier lane needs about a minute: the race is surely running.
    proc, master = _race_on_a_pty(tmp_path, "sim:fast-diffusion", "sim:frontier")
    try:
        read_until(master, b"SIMULATED", 60)  # the panes are up
        read_until(master, b"turn 1/15", 30)  # and the lanes have started
        proc.send_signal(signum)
        out = drain(master, 30)
        assert proc.wait(timeout=30) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    assert b"(race aborted)" in out and b"trace: " in out  # printed once the screen is given back
    (folder,) = tmp_path.iterdir()
    trace = read_race(folder)
    assert trace.status == "aborted" and trace.warnings == []
    assert isinstance(trace.events[-1], RaceDone) and trace.events[-1].aborted
    done = [e for e in trace.events if isinstance(e, LaneDone)]
    assert len(done) == 2 and Outcome.ABORTED in {e.outcome for e in done}


def _own_terminal() -> None:
    """In the child: a new session whose controlling terminal is the pty, as under sshd or tmux."""
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def test_when_the_terminal_goes_away_the_race_ends_its_trace_and_the_process_exits(tmp_path: Path) -> None:
    # Closing the pty's master is what a dropped SSH session or `tmux kill-server` does:
    # the kernel sends SIGHUP and SIGCONT, and every later write to the terminal fails.
    # Textual's own teardown would block for ever on such a terminal; loopterm must not.
    proc, master = _race_on_a_pty(tmp_path, "sim:fast-diffusion", "sim:frontier", preexec_fn=_own_terminal)
    try:
        read_until(master, b"turn 1/15", 60)  # the viewer is up and the lanes are racing
    finally:
        os.close(master)  # hang up
    try:
        assert proc.wait(timeout=30) == 129
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    (folder,) = tmp_path.iterdir()
    trace = read_race(folder)
    assert trace.status == "aborted" and trace.warnings == []
    assert isinstance(trace.events[-1], RaceDone) and trace.events[-1].aborted
    assert len([e for e in trace.events if isinstance(e, LaneDone)]) == 2


def _niceness(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])


def _policies(pid: int) -> set[int]:
    """The scheduling class of every thread of ``pid`` (per thread on Linux)."""
    return {os.sched_getscheduler(int(tid)) for tid in os.listdir(f"/proc/{pid}/task")}


def test_the_viewer_yields_the_cpu_to_the_race_it_watches(tmp_path: Path) -> None:
    # Once the panes are drawn and the race runs, every thread of the viewer runs only on idle
    # CPU time: the engine (and under it the sandbox and the candidate) keeps the class it had.
    proc, master = _race_on_a_pty(tmp_path, "sim:frontier")
    try:
        read_until(master, b"turn 1/15", 60)  # the clock runs: the viewer has said go
        start = _niceness(os.getpid())
        engines = [pid for pid in children(proc.pid) if b"loopterm.engine" in Path(f"/proc/{pid}/cmdline").read_bytes()]
        assert len(engines) == 1
        assert _policies(proc.pid) == {os.SCHED_IDLE}
        assert _policies(engines[0]) == {os.sched_getscheduler(0)}
        assert _niceness(engines[0]) == start
        proc.send_signal(signal.SIGTERM)
        drain(master, 30)
        assert proc.wait(timeout=30) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
