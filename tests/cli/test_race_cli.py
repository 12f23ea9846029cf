"""`loopterm race` as a user runs it: real traces; a real process where signals are the point.

The rest call the command's entry point in this process (``loopterm_main``): the same
exit code, stdout and stderr, without an interpreter start per test.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from support.in_process import LoopTerm

from loopterm.events import LaneDone, Outcome
from loopterm.traces.reader import read_race


def only_race(root: Path) -> Path:
    folders = [p for p in root.iterdir() if p.is_dir()]
    assert len(folders) == 1
    return folders[0]


def test_plain_race_prints_turns_and_the_results_table(tmp_path: Path, loopterm_main: LoopTerm) -> None:
    out = loopterm_main("race", "--time-scale", "0", "--seed", "1", "--max-turns", "4", "--trace-dir", str(tmp_path))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].startswith("race ") and "4 lanes" in lines[0] and "simulated latencies ×0" in lines[0]
    assert any("Fast diffusion (sim)" in line and "turn  1/4" in line for line in lines)
    assert any(line.startswith("Results") for line in lines)
    folder = only_race(tmp_path)
    assert lines[-1] == f"trace: {folder}"
    assert read_race(folder).status == "complete"


def test_json_summary_has_every_field(tmp_path: Path, loopterm_main: LoopTerm) -> None:
    out = loopterm_main(
        "race",
        "sim:fast-diffusion",
        "sim:weak-local",
        "--json",
        "--time-scale",
        "0",
        "--seed",
        "2",
        "--trace-dir",
        str(tmp_path),
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["trace_dir"] == str(only_race(tmp_path))
    assert data["race_id"] == only_race(tmp_path).name
    fast, weak = data["lanes"]
    for lane in (fast, weak):
        assert {
            "name",
            "provider",
            "model",
            "class",
            "outcome",
            "turns",
            "time_to_pass_s",
            "best_score",
            "statuses",
            "tokens",
            "cost",
            "median_ms",
        } <= lane.keys()
        assert set(lane["median_ms"]) == {"model", "validation", "harness"}
        assert len(lane["statuses"]) == lane["turns"]
    assert fast["outcome"] == "PASS" and fast["statuses"][-1] == "PASS" and fast["time_to_pass_s"] > 0
    assert weak["outcome"] != "PASS" and weak["time_to_pass_s"] is None
    assert fast["provider"] == "sim" and fast["class"] == "H/D"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-turns", "0"], "--max-turns: expected a whole number of at least 1"),
        (["--max-turns", "1001"], "--max-turns: expected a whole number of at most 1000"),
        (["--time-scale", "-1"], "--time-scale: expected a number of 0 or more"),
        (["--budget", "abc"], "--budget: expected a number"),
        (["--seed", "1.5"], "--seed: expected a whole number, got '1.5'"),
        (["sim:genius"], "unknown simulated profile 'sim:genius'"),
        (["warp-9"], "unknown lane 'warp-9'"),
        (["mercury-2"], "lane 'Mercury 2' is not ready: no key: set INCEPTION_API_KEY"),
        (["--lanes", "/nonexistent/lanes.toml"], "no such lanes file"),
        (["--task", "nope"], "task 'nope' not found"),
    ],
)
def test_bad_input_is_one_clear_line_and_exit_2(
    tmp_path: Path, args: list[str], message: str, loopterm_main: LoopTerm
) -> None:
    out = loopterm_main("race", "--plain", "--trace-dir", str(tmp_path), *args, env={"INCEPTION_API_KEY": None})
    assert out.returncode == 2
    assert message in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())  # nothing half-written


def test_a_trace_dir_that_is_a_file_is_one_line_before_anything_runs(tmp_path: Path, loopterm_main: LoopTerm) -> None:
    # Found only at the first event, this was a NotADirectoryError traceback from inside the race.
    not_a_dir = tmp_path / "traces"
    not_a_dir.write_text("a file\n")
    for where in (not_a_dir, not_a_dir / "below"):
        out = loopterm_main("race", "--plain", "--time-scale", "0", "--trace-dir", str(where))
        assert out.returncode == 2
        assert out.stderr.strip().splitlines() == [
            f"loopterm: error: cannot store traces in {where}: "
            + ("it is a file, not a folder" if where == not_a_dir else "Not a directory")
            + "; pass --trace-dir DIR"
        ]
        assert out.stdout == ""
    assert not_a_dir.read_text() == "a file\n"


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _start(tmp_path: Path) -> subprocess.Popen[str]:
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
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        # A shell runs background jobs with SIGINT ignored and Python keeps that, so a
        # CI job started with `&` would make the child deaf to the Ctrl-C we send it.
        preexec_fn=_default_sigint,
    )
    assert proc.stdout is not None
    header = proc.stdout.readline()  # printed right after race_started: the trace exists
    assert header.startswith("race ")
    return proc


def test_ctrl_c_ends_every_lane_and_marks_the_trace_aborted(tmp_path: Path) -> None:
    proc = _start(tmp_path)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, stderr
    assert "(race aborted)" in stdout
    folder = only_race(tmp_path)
    assert json.loads((folder / "race.json").read_text())["status"] == "aborted"
    trace = read_race(folder)
    assert trace.warnings == []
    done = [e for e in trace.events if isinstance(e, LaneDone)]
    assert len(done) == 4 and {e.outcome for e in done} == {Outcome.ABORTED}


def test_a_killed_race_leaves_a_readable_trace(tmp_path: Path) -> None:
    proc = _start(tmp_path)
    proc.kill()
    proc.communicate(timeout=30)
    trace = read_race(only_race(tmp_path))
    assert trace.status == "aborted"
    assert any("no end record" in w for w in trace.warnings)
    assert len([e for e in trace.events if isinstance(e, LaneDone)]) == 4


def test_json_turns_of_a_budget_run_match_its_statuses(tmp_path: Path, loopterm_main: LoopTerm) -> None:
    # Frontier at its own pace: the 0.3 s budget ends turn 1 before its first token.
    out = loopterm_main(
        "race",
        "sim:frontier",
        "--json",
        "--time-scale",
        "1",
        "--budget",
        "0.3",
        "--seed",
        "1",
        "--trace-dir",
        str(tmp_path),
    )
    assert out.returncode == 0, out.stderr
    (lane,) = json.loads(out.stdout)["lanes"]
    assert lane["outcome"] == "BUDGET"
    assert lane["turns"] == len(lane["statuses"]) == 0
    assert lane["reason"].endswith("during turn 1, which did not finish")
