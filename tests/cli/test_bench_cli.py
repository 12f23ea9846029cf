"""``loopterm bench`` end to end: real sim lanes, the real suite; a real child process for SIGTERM.

The others call the command's entry point in this process (``loopterm_main``).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support.in_process import LoopTerm, Ran

from loopterm.cli import main
from loopterm.traces.reader import read_race


@pytest.fixture
def loopterm(loopterm_main: LoopTerm) -> Callable[..., Ran]:
    def run(*args: str, cwd: Path) -> Ran:
        return loopterm_main(*args, cwd=cwd, env={"COLUMNS": "160"})

    return run


def test_bench_json_is_what_report_reads_back_from_the_trace(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], loopterm: Callable[..., Ran]
) -> None:
    traces = tmp_path / "traces"
    done = loopterm(
        "bench",
        "sim:fast-diffusion",
        "sim:frontier",
        "--runs",
        "3",
        "--time-scale",
        "0",
        "--seed",
        "1",
        "--max-turns",
        "4",
        "--trace-dir",
        str(traces),
        "--json",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)  # stdout is the JSON alone; progress went to stderr
    assert "run  3/3" in done.stderr and "all done" in done.stderr

    # One race folder, kind bench, bench id = race id, one jsonl per run.
    (folder,) = traces.iterdir()
    assert data["ids"] == [folder.name]
    trace = read_race(folder)
    assert trace.status == "complete" and trace.warnings == []
    assert trace.started.kind == "bench" and trace.started.bench_id == folder.name
    run_ids = [lane.run_id for lane in trace.started.lanes]
    assert sorted(p.stem for p in folder.glob("*.jsonl")) == sorted(run_ids)
    assert run_ids == [f"{lane}-sim-r0{i}" for lane in ("fast-diffusion", "frontier") for i in (1, 2, 3)]
    assert {lane.run_index for lane in trace.started.lanes} == {0, 1, 2}

    rows = {row["lane"]: row for row in data["rows"]}
    assert set(rows) == {"Fast diffusion (sim)", "Frontier (sim)"}
    for row in rows.values():
        assert row["runs"] + row["errors"] + row["aborted"] == 3
        assert 0 <= row["one_shot"] <= row["passed"] <= row["runs"]
        assert row["class"] in ("H/D", "H/AR") and row["simulated"] is True
    assert [r["run_id"] for r in data["runs"]] == run_ids
    for run in data["runs"]:
        assert len(run["scores"]) == run["turns"] <= 4
        assert run["final_score"] == run["scores"][-1]

    # `report` on the stored trace prints the very same object.
    assert main(["report", folder.name[:15], "--trace-dir", str(traces), "--format", "json"]) == 0
    assert json.loads(capfd.readouterr().out) == data


def test_bench_plain_prints_progress_and_the_table(tmp_path: Path, loopterm: Callable[..., Ran]) -> None:
    traces = tmp_path / "traces"
    done = loopterm(
        "bench",
        "sim:fast-diffusion",
        "--runs",
        "2",
        "--concurrency",
        "1",
        "--time-scale",
        "0",
        "--seed",
        "2",
        "--max-turns",
        "3",
        "--trace-dir",
        str(traces),
        "--plain",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    (folder,) = traces.iterdir()
    assert out.startswith(f"bench {folder.name} · task quote-approval · 1 lane × 2 runs · max 3 turns")
    assert "Fast diffusion (sim) run  1/2 " in out and "Fast diffusion (sim) run  2/2 " in out
    assert "1/2 done" in out and "2/2 done" in out and "all done" in out
    for heading in ("Results", "Runs Passed", "Convergence and cost", "Mean score after each turn"):
        assert heading in out
    assert f"loopterm report {folder.name}" in out


def test_bench_rejects_bad_input_in_one_line(tmp_path: Path, loopterm: Callable[..., Ran]) -> None:
    done = loopterm("bench", "sim:nope", "--trace-dir", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and "nope" in done.stderr
    done = loopterm("bench", "sim:frontier", "--runs", "0", cwd=tmp_path)
    assert done.returncode == 2 and "at least 1" in done.stderr
    # A typo of a billion runs used to plan them all (a MemoryError), not refuse them.
    done = loopterm("bench", "sim:frontier", "--runs", "1000000000", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr.strip().splitlines() == [
        "loopterm bench: error: argument --runs: expected a whole number of at most 1000, got 1000000000 "
        "(see `loopterm bench --help`)"
    ]
    done = loopterm("bench", "sim:frontier", "--trace-dir", "/dev/null/traces", cwd=tmp_path)
    assert done.returncode == 2 and "cannot store traces in /dev/null/traces" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())  # nothing was run, nothing stored


def test_sigterm_stops_the_bench_and_keeps_what_finished(tmp_path: Path) -> None:
    traces = tmp_path / "traces"
    # At ×0.05 a fast-diffusion run takes about a second, a frontier turn about four.
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "loopterm",
            "bench",
            "sim:fast-diffusion",
            "sim:frontier",
            "--runs",
            "1",
            "--time-scale",
            "0.05",
            "--seed",
            "3",
            "--trace-dir",
            str(traces),
            "--plain",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:  # progress is flushed line by line, even into a pipe
        seen.append(line)
        if "Fast diffusion (sim) run  1/1" in line:
            break
    assert "Frontier (sim) run" not in "".join(seen)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "bench interrupted" in err
    assert "Frontier (sim): 1 run aborted, not counted" in out
    aborted_line = next(line for line in out.splitlines() if "Frontier (sim)" in line and "run  1/1 aborted" in line)
    assert aborted_line.endswith("stopped · 1 of 2 runs finished") and "all done" not in out
    (folder,) = traces.iterdir()
    trace = read_race(folder)
    assert trace.status == "aborted" and trace.warnings == []
    outcomes = {e.lane: e.outcome.value for e in trace.events if e.type == "lane_done"}
    assert outcomes == {"fast-diffusion-sim": "PASS", "frontier-sim": "ABORTED"}
