"""A trace that cannot be written (a full disk, a file-size limit) stops race, bench and rescore in one line.

A real process with a real file-size limit (RLIMIT_FSIZE): the lane's trace
file stops growing mid-race and every later write fails with EFBIG, as a
full disk fails with ENOSPC. Python ignores SIGXFSZ, so the write raises.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from loopterm.traces.reader import read_race

LIMIT = 60_000  # bytes: the header fits, a lane's file passes it within a few turns


def _limit_file_size() -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT, LIMIT))


# A weak local lane at full speed with no THRASH stop: its trace passes LIMIT within a few turns.
WEAK_LOCAL_RACE = ("sim:weak-local", "--time-scale", "0", "--seed", "1", "--thrash-k", "0", "--plain", "--trace-dir")


def _loopterm(*args: str, limited: bool = False) -> subprocess.CompletedProcess[str]:
    """``python -m loopterm ARGS`` in a child, under the file-size limit when ``limited``."""
    return subprocess.run(
        [sys.executable, "-m", "loopterm", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
        preexec_fn=_limit_file_size if limited else None,
    )


@pytest.mark.parametrize("command", [["race"], ["bench", "--runs", "2"]])
def test_a_trace_write_that_fails_stops_in_one_line_and_keeps_what_was_written(
    tmp_path: Path, command: list[str]
) -> None:
    done = _loopterm(*command, *WEAK_LOCAL_RACE, str(tmp_path), limited=True)
    # It was an OSError traceback from inside a lane, after an "internal error" it could not write either.
    assert done.returncode == 1, done.stderr
    (folder,) = tmp_path.iterdir()
    what = command[0]
    assert done.stderr.strip().splitlines() == [
        f"loopterm: cannot write the trace in {folder}: File too large; "
        f"the {what} was stopped (free space or pass --trace-dir DIR)"
    ]
    assert "Traceback" not in done.stdout + done.stderr
    trace = read_race(folder)  # what was written reads back; the race is closed as aborted
    assert trace.status == "aborted"
    assert any(e.type == "turn_done" for e in trace.events)


def test_a_rescore_whose_trace_cannot_be_written_says_so_in_one_line(tmp_path: Path) -> None:
    source, rescored = tmp_path / "source", tmp_path / "rescored"
    assert _loopterm("race", *WEAK_LOCAL_RACE, str(source)).returncode == 0
    (original,) = source.iterdir()
    done = _loopterm("rescore", str(original), "--plain", "--trace-dir", str(rescored), limited=True)
    # It was an OSError traceback: rescore wrote its trace without the guard race and bench have.
    assert done.returncode == 1, done.stderr
    (folder,) = rescored.iterdir()
    assert done.stderr.strip().splitlines()[-1] == (
        f"loopterm: cannot write the trace in {folder}: File too large; "
        "the rescore was stopped (free space or pass --trace-dir DIR)"
    )
    assert "Traceback" not in done.stdout + done.stderr
    trace = read_race(folder)
    assert trace.status == "aborted"
    assert trace.started.rescore_of == original.name
