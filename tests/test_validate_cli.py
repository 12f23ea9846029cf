"""``loopterm validate`` through a real subprocess: exit codes, JSON shape, report, bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CANDIDATES = Path(__file__).parent / "candidates"
TASK_DIR = CANDIDATES / "task"
REFERENCE = TASK_DIR / "validation/mini/reference.py"
MINI = ["--task", "mini", "--task-dir", str(TASK_DIR)]
ROOT = Path(__file__).resolve().parent.parent


def loopterm(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}  # LOOPTERM_* dirs come from conftest's temp dirs
    return subprocess.run(
        [sys.executable, "-m", "loopterm", "validate", *map(str, args)],
        capture_output=True, text=True, timeout=120, env=env, cwd=cwd,
    )


def test_json_for_a_passing_candidate_is_one_object_and_exit_0() -> None:
    out = loopterm(REFERENCE, *MINI, "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)  # exactly one JSON document on stdout
    assert set(data) == {"task", "score", "passed", "total", "status", "error", "duration_ms", "checks"}
    assert (data["task"], data["score"], data["passed"], data["total"]) == ("mini", 1.0, 3, 3)
    assert (data["status"], data["error"]) == ("PASS", None)
    assert data["duration_ms"] > 0
    assert [c["id"] for c in data["checks"]] == ["hello", "echo", "missing"]
    assert set(data["checks"][0]) == {"id", "group", "description", "passed", "message", "duration_ms"}


def test_json_for_a_candidate_that_does_not_load(tmp_path: Path) -> None:
    out = loopterm(CANDIDATES / "syntax_error.py", *MINI, "--json")
    assert out.returncode == 1
    data = json.loads(out.stdout)
    assert (data["status"], data["passed"], data["total"], data["score"]) == ("FAIL", 0, 3, 0.0)
    assert data["error"] == "syntax error at line 3: '(' was never closed"
    assert all(not c["passed"] and data["error"] in c["message"] for c in data["checks"])


def test_repeat_adds_latency_figures() -> None:
    out = loopterm(REFERENCE, *MINI, "--json", "--repeat", "3")
    assert out.returncode == 0, out.stderr
    latency = json.loads(out.stdout)["latency_ms"]
    assert set(latency) == {"min", "p50", "p90"}
    assert 0 < latency["min"] <= latency["p50"] <= latency["p90"]


def test_human_report_shows_status_score_and_failing_checks(tmp_path: Path) -> None:
    partial = tmp_path / "partial.py"
    partial.write_text(REFERENCE.read_text().replace('"hello"}', '"goodbye"}'))
    out = loopterm(partial, *MINI, "--repeat", "2")
    assert out.returncode == 1, out.stderr
    assert "PARTIAL" in out.stdout and "2/3 checks" in out.stdout and "score 0.67" in out.stdout
    assert "hello" in out.stdout and "expected msg hello" in out.stdout
    assert "echo:" not in out.stdout  # passing checks are not listed
    assert "latency over 2 validations: min" in out.stdout
    assert "sandbox: rlimits" in out.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.py"], "missing.py: no such file"),
        (["."], ".: is a folder"),
        (["bad.py"], "bad.py: is not UTF-8 text"),
        (["good.py", "--repeat", "0"], "--repeat must be at least 1, not 0"),
        (["good.py", "--task", "no-such-task"], "task 'no-such-task' not found"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "bad.py").write_bytes(b"app = '\xff\xfe'\n")
    (tmp_path / "good.py").write_text(REFERENCE.read_text())
    out = loopterm(*args, cwd=tmp_path)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("loopterm: error: ") and message in lines[0], out.stderr


@pytest.mark.skipif(not (ROOT / "validation/quote-approval/reference.py").exists(), reason="task not written yet")
def test_the_quote_approval_reference_passes_every_check() -> None:
    out = loopterm(ROOT / "validation/quote-approval/reference.py", "--json")
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr
    data = json.loads(out.stdout)
    assert (data["task"], data["status"], data["passed"]) == ("quote-approval", "PASS", data["total"])
    assert data["total"] == 47
