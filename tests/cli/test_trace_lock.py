"""A race being written holds its folder's lock: rm, prune and replay see it; a killed race frees it at once.

A real child process: a simulated race at its real pace (``--time-scale 1``)
is live for many seconds, much of it with lanes waiting for a first token and
no event written, the case a "files changed lately" guess got wrong. The
commands that look at it (rm, prune, replay, the listing) run in this process
(``loopterm_main``), a process other than the race's, as a user's would be.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.in_process import LoopTerm

from loopterm.traces import store

LiveRace = tuple[subprocess.Popen[str], Path, Path]  # the race process, the traces dir, its race folder


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # a shell's `&` job would ignore our Ctrl-C otherwise


@pytest.fixture
def live_race(tmp_path: Path) -> Iterator[LiveRace]:
    root = tmp_path / "traces"
    env = os.environ.copy() | {"PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "loopterm",
            "race",
            "--plain",
            "--time-scale",
            "1",
            "--seed",
            "1",
            "--trace-dir",
            str(root),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=_default_sigint,
    )
    assert proc.stdout is not None
    header = proc.stdout.readline()  # printed right after race_started: the trace and its lock exist
    assert header.startswith("race "), proc.stderr.read() if proc.stderr else header
    (folder,) = list(root.iterdir())
    try:
        yield proc, root, folder
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=30)


def test_rm_and_prune_leave_a_running_race_which_then_ends_cleanly(
    live_race: LiveRace, loopterm_main: LoopTerm
) -> None:
    proc, root, folder = live_race
    info = store.read_info(folder)
    assert info.live() and info.writer == proc.pid and info.status == "running"

    out = loopterm_main("traces", "rm", folder.name, "--yes", "--trace-dir", str(root))
    assert out.returncode == 2
    assert out.stderr.strip() == (
        f"loopterm: error: race {folder.name} is still being written by process "
        f"{proc.pid}; stop that race first (nothing deleted)"
    )
    out = loopterm_main("traces", "prune", "--older-than", "0", "--yes", "--trace-dir", str(root))
    assert out.returncode == 0 and "no races older than 0 days" in out.stdout
    assert folder.is_dir()
    listing = json.loads(loopterm_main("traces", "--json", "--trace-dir", str(root)).stdout)
    assert listing[0]["status"] == "running" and listing[0]["live"] is True

    # The race was never disturbed: Ctrl-C ends it with a complete, aborted trace.
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "FileNotFoundError" not in stderr and "Traceback" not in stderr
    assert json.loads((folder / "race.json").read_text())["status"] == "aborted"
    assert not (folder / "race.lock").exists()
    assert not store.read_info(folder).live()


def test_replaying_a_race_still_being_written_says_so(live_race: LiveRace, loopterm_main: LoopTerm) -> None:
    proc, root, folder = live_race
    out = loopterm_main("replay", folder.name, "--plain", "--speed", "50", "--trace-dir", str(root))
    assert out.returncode == 0, out.stderr
    # One line for the race and its lanes not finished yet, in words a report can use too.
    assert "loopterm: warning: the race is still being written (" in out.stderr
    assert " still running); this is what is recorded so far, up to " in out.stderr
    assert "killed or crashed" not in out.stderr and "closed as aborted" not in out.stderr
    assert proc.poll() is None  # reading it did not disturb it


def test_a_killed_race_is_deletable_at_once(live_race: LiveRace, loopterm_main: LoopTerm) -> None:
    proc, root, folder = live_race
    proc.kill()  # SIGKILL: no cleanup ran; the OS dropped the lock
    proc.wait(timeout=30)
    assert (folder / "race.lock").exists()  # left behind, but nobody holds it
    info = store.read_info(folder)
    assert not info.live() and info.status == "incomplete"
    out = loopterm_main("replay", folder.name, "--plain", "--speed", "50", "--trace-dir", str(root))
    assert "killed or crashed" in out.stderr
    out = loopterm_main("traces", "rm", folder.name, "--yes", "--trace-dir", str(root))
    assert out.returncode == 0, out.stderr
    assert not folder.exists()
