"""Plain output that goes away mid-run (``| head``) or a SIGTERM: a clean stop, a complete trace.

Real child processes: the race or bench runs, its stdout is a pipe we close
after a couple of lines, as ``head -2`` would; it must end at once with exit
141 (a shell's code for a pipeline cut short), one line on stderr naming the
trace, no traceback, and a trace whose every lane is closed.
"""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
import sys
from pathlib import Path

from support.trace_helpers import hand_race, write_trace

from loopterm.events import LaneDone, RaceDone
from loopterm.traces.reader import read_race


def _loopterm(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "loopterm", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy() | {"PYTHONUNBUFFERED": "1"},
    )


def _close_after(proc: subprocess.Popen[str], lines: int) -> str:
    """Read ``lines`` lines of stdout, close the pipe, wait; returns stderr."""
    assert proc.stdout is not None and proc.stderr is not None
    for _ in range(lines):
        assert proc.stdout.readline()
    proc.stdout.close()
    try:
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return err


def _complete_aborted(root: Path) -> None:
    (folder,) = root.iterdir()
    trace = read_race(folder)
    assert trace.status == "aborted" and trace.warnings == []
    assert isinstance(trace.events[-1], RaceDone) and trace.events[-1].aborted
    closed = {e.lane for e in trace.events if isinstance(e, LaneDone)}
    assert closed == {lane.run_id for lane in trace.started.lanes}


def test_a_race_whose_output_is_closed_stops_and_keeps_a_complete_trace(tmp_path: Path) -> None:
    # At time scale 0.2 the fast lane prints a turn about every half second and the frontier
    # lane needs over ten seconds: the race is surely cut short.
    proc = _loopterm("race", "--plain", "--time-scale", "0.2", "--seed", "1", "--trace-dir", str(tmp_path))
    err = _close_after(proc, 2)
    assert proc.returncode == 141
    assert err.startswith("loopterm: output closed; race stopped, trace: ") and "Traceback" not in err
    _complete_aborted(tmp_path)


def test_sigterm_stops_a_plain_race_without_a_traceback(tmp_path: Path) -> None:
    proc = _loopterm("race", "--plain", "--time-scale", "1", "--seed", "1", "--trace-dir", str(tmp_path))
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith("race ")  # the race has started
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "(race aborted)" in out and "trace: " in out
    assert err.strip() == "loopterm: race stopped; its trace is complete, marked aborted"
    _complete_aborted(tmp_path)


def test_a_bench_whose_output_is_closed_stops_and_keeps_a_complete_trace(tmp_path: Path) -> None:
    proc = _loopterm(
        "bench",
        "sim:fast-diffusion",
        "sim:frontier",
        "--runs",
        "2",
        "--plain",
        "--time-scale",
        "0.2",
        "--seed",
        "1",
        "--trace-dir",
        str(tmp_path),
    )
    err = _close_after(proc, 1)  # the header; the frontier runs take several seconds more
    assert proc.returncode == 141
    assert err.startswith("loopterm: output closed; bench stopped, trace: ") and "Traceback" not in err
    _complete_aborted(tmp_path)


def test_a_plain_replay_and_a_listing_stop_quietly_when_their_output_closes(tmp_path: Path) -> None:
    # Stretched so the replay would take about 10 s at 1x; its second line comes after 1.6 s.
    write_trace(tmp_path, [e.model_copy(update={"t": e.t * 2}) for e in hand_race()])
    replay = _loopterm("replay", "--plain", "--trace-dir", str(tmp_path))
    err = _close_after(replay, 1)
    assert replay.returncode == 141 and err == ""
    for i in range(100):
        write_trace(tmp_path, hand_race(race_id=f"20261122-1{i:05d}-abcd"))
    # The listing is printed in one go at the end: shrink the pipe to one page so that
    # write cannot fit before we close it, as it would not with a long listing.
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)
    listing = subprocess.Popen(
        [sys.executable, "-m", "loopterm", "traces", "--trace-dir", str(tmp_path)],
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(write_end)
    with os.fdopen(read_end) as out:
        assert out.readline()
    _, err = listing.communicate(timeout=60)
    assert listing.returncode == 141 and "Traceback" not in err
