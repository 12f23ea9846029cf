"""A replay quit part-way leaves the recorded results and says where it stopped (issue 15 item 9)."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

from rich.console import Console
from support.bench_events import Run, race
from support.pty_helpers import drain, read_until
from support.trace_helpers import hand_race, write_trace

from loopterm.events import Event, LaneDone, RaceDone
from loopterm.plain.results import print_bench_results, print_race_results


def printed(show: object, shown: list[Event], recorded: list[Event] | None) -> str:
    buffer = io.StringIO()
    show(shown, recorded=recorded, console=Console(file=buffer, width=120))  # type: ignore[operator]
    return buffer.getvalue()


def before_the_first_lane_ends(events: list[Event]) -> list[Event]:
    return events[: next(i for i, e in enumerate(events) if isinstance(e, LaneDone))]


def test_quit_part_way_the_table_is_the_race_as_recorded_and_says_so() -> None:
    events = hand_race()
    shown = before_the_first_lane_ends(events)
    text = printed(print_race_results, shown, events)
    assert "running" not in text  # the picture at the quit called finished lanes "running"
    assert "PASS" in text and "turn limit" in text  # what the trace recorded
    stopped, end = shown[-1].t - events[0].t, events[-1].t - events[0].t
    assert f"the replay stopped at {stopped:.1f} s of {end:.1f} s; the table is the trace as recorded" in text
    # Watched to the end (or jumped there), nothing more is said.
    whole = printed(print_race_results, events, events)
    assert "replay stopped" not in whole and "turn limit" in whole


def test_a_bench_replay_quit_part_way_prints_the_recorded_bench_table() -> None:
    events = race([Run("a1", [0.5, 1.0]), Run("a2", [0.5, 0.7, 1.0]), Run("b1", [0.5], name="B", model="b")])
    shown = before_the_first_lane_ends(events)
    text = printed(print_bench_results, shown, events)
    assert "the replay stopped at" in text and "2/2" in text and "0/1" in text  # every recorded run counted
    assert "replay stopped" not in printed(print_bench_results, events, events)


def test_a_live_race_prints_what_ran() -> None:
    events = hand_race()
    cut = [*before_the_first_lane_ends(events), RaceDone(t=events[-1].t, aborted=True)]
    text = printed(print_race_results, cut, None)
    assert "Results (race aborted)" in text and "replay" not in text


def test_quitting_the_replay_viewer_part_way_prints_the_recorded_results(tmp_path: Path) -> None:
    # At 0.5x the race takes about 40 s; "q" at once quits long before any lane ends.
    events = [e.model_copy(update={"t": e.t * 4}) for e in hand_race()]
    assert not any(isinstance(e, RaceDone) for e in events[:-1])
    root = tmp_path / "traces"
    write_trace(root, events)
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "loopterm", "replay", "--speed", "0.5", "--trace-dir", str(root)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        close_fds=True,
    )
    os.close(slave)
    try:
        read_until(master, b"REPLAY", 60)  # the viewer is up
        os.write(master, b"q")
        out = read_until(master, b"Results", 30) + drain(master, 10)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    after = out[out.rindex(b"Results") :].decode(errors="replace")
    assert "turn limit" in after and "PASS" in after and "running" not in after
    assert "the replay stopped at" in " ".join(after.split())
