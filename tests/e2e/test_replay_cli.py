"""`loopterm replay`: plain output, aborted and damaged traces, newer schemas, the viewer on a TTY."""

from __future__ import annotations

import io
import json
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.in_process import LoopTerm
from support.pty_helpers import read_until
from support.trace_helpers import hand_race, write_trace

from loopterm.cli import main
from loopterm.events import Event, LaneDone, RaceDone
from loopterm.plain.console import plain_console
from loopterm.plain.race import PlainPrinter


def printed(events: list[Event], speed: float | None) -> str:
    """What the plain printer shows for these events (the replay must show the same)."""
    buffer = io.StringIO()
    printer = PlainPrinter(plain_console(buffer), replay_speed=speed)  # 120 columns off a terminal
    for event in events:
        printer(event)
    return buffer.getvalue()


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "traces"


def test_plain_replay_prints_what_the_race_printed_with_a_replay_badge(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = hand_race()
    write_trace(root, events)
    assert main(["replay", "--plain", "--speed", "50", "--trace-dir", str(root)]) == 0  # newest race
    out, err = capsys.readouterr()
    assert err == ""
    assert out == printed(events, 50)
    first = out.splitlines()[0]
    assert first.startswith("race 20261122-101500-abcd · task mini · 2 lanes") and first.endswith("REPLAY ×50")


def test_a_unique_prefix_and_a_lane_file_both_replay(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = hand_race()
    folder = write_trace(root, events)
    write_trace(root, hand_race("20261123-000000-ffff"))
    assert main(["replay", "20261122", "--plain", "--speed", "50", "--trace-dir", str(root)]) == 0
    assert "race 20261122-101500-abcd" in capsys.readouterr().out
    assert main(["replay", str(folder / "slow.jsonl"), "--plain", "--speed", "50"]) == 0
    out = capsys.readouterr().out
    assert "1 lane ·" in out and "Slow" in out and "Fast " not in out


def test_an_interrupted_race_replays_to_where_it_stopped_marked_aborted(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = hand_race()
    cut = next(i for i, e in enumerate(events) if isinstance(e, LaneDone))  # fast passed; slow mid-race
    stop_t = events[cut + 5].t
    tail = [
        LaneDone(
            t=stop_t,
            lane="slow",
            outcome="ABORTED",
            reason="race stopped during turn 2",
            turns=2,
            time_to_pass_s=None,
            best_score=0.67,
            final_score=0.33,
        ),
        RaceDone(t=stop_t, aborted=True),
    ]
    write_trace(root, [*events[: cut + 6], *tail])  # Ctrl-C: the engine closed every lane
    assert main(["replay", "--plain", "--speed", "50", "--trace-dir", str(root)]) == 0
    out, err = capsys.readouterr()
    assert "was aborted; it replays up to where it stopped" in err
    assert "Results (race aborted)" in out
    assert "aborted after 2 turns" in out  # the word the table says


def test_a_killed_race_replays_with_one_warning_line_each(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = hand_race()
    cut = next(i for i, e in enumerate(events) if isinstance(e, LaneDone))
    folder = write_trace(root, events[: cut + 3])  # killed: no lane_done for slow, no race_done
    assert main(["replay", folder.name, "--plain", "--speed", "50", "--trace-dir", str(root)]) == 0
    out, err = capsys.readouterr()
    warnings = err.splitlines()
    assert "loopterm: warning: slow: no lane_done; closed as aborted at" in warnings[0]
    assert warnings[1] == ("loopterm: warning: the race has no end record (killed or crashed); read as aborted")
    assert len(warnings) == 2
    assert "Results (race aborted)" in out and "PASS in" in out


def test_a_damaged_trace_replays_what_is_readable(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_trace(root, hand_race())
    lane = folder / "slow.jsonl"
    lines = lane.read_text().splitlines()
    lines[3] = lines[3][:20] + "\x00garbage"
    lane.write_text("\n".join(lines) + "\n")
    fast = folder / "fast.jsonl"
    fast.write_bytes(fast.read_bytes()[:-7])  # torn last line
    assert main(["replay", "--plain", "--speed", "50", "--trace-dir", str(root)]) == 0
    out, err = capsys.readouterr()
    assert "loopterm: warning: slow.jsonl:4: damaged line skipped" in err
    assert "loopterm: warning: fast.jsonl: skipped a torn last line" in err
    assert "turn  4/4" in out  # the readable rest of slow is all there


def test_a_newer_schema_is_refused_with_exit_2(root: Path, loopterm_main: LoopTerm) -> None:
    folder = write_trace(root, hand_race())
    header = json.loads((folder / "race.json").read_text())
    header["race_started"]["schema"] = 7
    (folder / "race.json").write_text(json.dumps(header))
    out = loopterm_main("replay", "--plain", "--trace-dir", str(root))
    assert out.returncode == 2
    assert out.stdout == ""
    assert len(out.stderr.splitlines()) == 1
    assert "written by a newer loopterm (event schema 7;" in out.stderr and "upgrade loopterm" in out.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        # one range, one message, whatever the miss (0 and 0.1 once disagreed)
        (["--speed", "100"], "--speed: expected a number from 0.5 to 50, got '100'"),
        (["--speed", "0"], "--speed: expected a number from 0.5 to 50, got '0'"),
        (["--speed", "0.1"], "--speed: expected a number from 0.5 to 50, got '0.1'"),
        (["--speed", "nan"], "--speed: expected a number from 0.5 to 50, got 'nan'"),
        (["--speed", "fast"], "--speed: expected a number from 0.5 to 50, got 'fast'"),
        (["nope"], "no race 'nope' in"),
        ([], "no stored races in"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(root: Path, args: list[str], message: str, loopterm_main: LoopTerm) -> None:
    out = loopterm_main("replay", "--plain", "--trace-dir", str(root), *args)
    assert out.returncode == 2
    assert message in out.stderr and len(out.stderr.splitlines()) == 1


def test_plain_replay_keeps_the_recorded_timing(root: Path, loopterm_main: LoopTerm) -> None:
    # The race lasts 0.55 s at 1x: the replay must take at least that long.
    events = [e.model_copy(update={"t": e.t / 10}) for e in hand_race()]
    write_trace(root, events)
    began = time.monotonic()
    out = loopterm_main("replay", "--plain", "--trace-dir", str(root))
    assert out.returncode == 0, out.stderr
    assert "REPLAY ×1" in out.stdout and "Results" in out.stdout
    # the command's own start-up is in there too; the replay part alone is >= 0.55 s
    assert time.monotonic() - began >= events[-1].t


def test_on_a_terminal_the_viewer_replays_and_its_keys_work(root: Path) -> None:
    # At 0.5x this race would take about 40 s to finish; "e" must end it at once.
    events = [e.model_copy(update={"t": e.t * 4}) for e in hand_race()]
    write_trace(root, events)
    by_itself = events[-1].t / 0.5  # seconds from the viewer's start to the slow lane's end
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
        read_until(master, b"REPLAY", 60)  # the viewer is up with its badge
        os.write(master, b"e")  # jump to the end
        # The slow lane's end shows long before the race would get there by itself.
        read_until(master, b"turn limit", by_itself / 2)
        os.write(master, b"q")
        out = read_until(master, b"Results", 30)  # printed after the app closes
        assert proc.wait(timeout=30) == 0
        assert b"turn limit" in out and b"PASS" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
