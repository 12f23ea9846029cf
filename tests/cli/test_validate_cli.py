"""``loopterm validate`` as a user runs it: exit codes, JSON shape, report, bad input.

The command's entry point runs in this process (``loopterm_main``): the same exit code
and output as a child process, without an interpreter start per test.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from support.in_process import LoopTerm, Ran
from support.paths import CANDIDATES, REPO

from loopterm.commands.validate import agreement, as_json, disagreement_line
from loopterm.events import CheckResult, ValidationResult

TASK_DIR = CANDIDATES / "task"
REFERENCE = TASK_DIR / "validation/mini/reference.py"
MINI = ["--task", "mini", "--task-dir", str(TASK_DIR)]


Validate = Callable[..., Ran]  # loopterm("candidate.py", "--json"): `loopterm validate candidate.py --json`


@pytest.fixture
def loopterm(loopterm_main: LoopTerm) -> Validate:
    def run(*args: str | Path, cwd: Path | None = None) -> Ran:
        # LOOPTERM_* dirs come from conftest's temp dirs
        return loopterm_main("validate", *args, cwd=cwd, env={"COLUMNS": "200"})

    return run


def test_json_for_a_passing_candidate_is_one_object_and_exit_0(loopterm: Validate) -> None:
    out = loopterm(REFERENCE, *MINI, "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)  # exactly one JSON document on stdout
    assert set(data) == {"task", "score", "passed", "total", "status", "error", "duration_ms", "checks"}
    assert (data["task"], data["score"], data["passed"], data["total"]) == ("mini", 1.0, 3, 3)
    assert (data["status"], data["error"]) == ("PASS", None)
    assert data["duration_ms"] > 0
    assert [c["id"] for c in data["checks"]] == ["hello", "echo", "missing"]
    assert set(data["checks"][0]) == {"id", "group", "description", "passed", "message", "duration_ms"}


def test_json_for_a_candidate_that_does_not_load(tmp_path: Path, loopterm: Validate) -> None:
    out = loopterm(CANDIDATES / "syntax_error.py", *MINI, "--json")
    assert out.returncode == 1
    data = json.loads(out.stdout)
    assert (data["status"], data["passed"], data["total"], data["score"]) == ("FAIL", 0, 3, 0.0)
    assert data["error"] == "syntax error at line 3: '(' was never closed"
    assert all(not c["passed"] and data["error"] in c["message"] for c in data["checks"])


def test_repeat_adds_latency_figures(loopterm: Validate) -> None:
    out = loopterm(REFERENCE, *MINI, "--json", "--repeat", "3")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    latency = data["latency_ms"]
    assert set(latency) == {"min", "p50", "p90"}
    assert 0 < latency["min"] <= latency["p50"] <= latency["p90"]
    # A deterministic file: every run agrees, so nothing is flaky.
    assert (data["runs"], data["passed_range"], data["flaky_checks"]) == (3, [3, 3], [])


def run_of(passed: dict[str, bool]) -> ValidationResult:
    checks = [
        CheckResult(id=i, group="logic", description=i, passed=ok, message="" if ok else "no", duration_ms=1.0)
        for i, ok in passed.items()
    ]
    count = sum(passed.values())
    status = "PASS" if count == len(checks) else "PARTIAL" if count else "FAIL"
    return ValidationResult(
        task="mini",
        score=count / len(checks),
        passed=count,
        total=len(checks),
        status=status,
        duration_ms=5.0,
        checks=checks,
    )


def test_repeated_runs_that_disagree_are_reported() -> None:
    runs = [
        run_of({"a": True, "b": True, "c": True}),
        run_of({"a": True, "b": False, "c": True}),
        run_of({"a": True, "b": True, "c": False}),
    ]
    repeat = agreement(runs)
    assert repeat == {"runs": 3, "passed_range": [2, 3], "flaky_checks": ["b", "c"]}
    assert as_json(runs[0], None, repeat)["flaky_checks"] == ["b", "c"]
    assert disagreement_line(repeat, 3) == (
        "warning: the 3 runs disagree: passed 2 to 3 of 3; flaky checks: b, c "
        "(status, score and exit code are the first run's)"
    )
    steady = agreement([runs[1], runs[1]])
    assert steady["flaky_checks"] == [] and disagreement_line(steady, 3) is None


def test_a_nul_byte_is_a_syntax_error_without_a_line_number(tmp_path: Path, loopterm: Validate) -> None:
    nul = tmp_path / "nul.py"
    nul.write_bytes(b"app = 1\0\n")
    out = loopterm(nul, *MINI, "--json")
    assert out.returncode == 1, out.stderr
    assert json.loads(out.stdout)["error"] == "syntax error: source code string cannot contain null bytes"


def test_human_report_lists_every_failing_check_for_a_person(tmp_path: Path, loopterm: Validate) -> None:
    # Fails all 47: the model's feedback would stop near 6,000 characters with a note for the
    # model; a person gets every failing check.
    text = tmp_path / "text.py"
    text.write_text(
        "from starlette.responses import PlainTextResponse\n\n"
        "async def app(scope, receive, send):\n"
        "    await PlainTextResponse('hi')(scope, receive, send)\n"
    )
    out = loopterm(text)
    assert out.returncode == 1, out.stderr
    listed = [line for line in out.stdout.splitlines() if line.startswith("- ")]
    assert len(listed) == 47 and "0/47 checks" in out.stdout
    assert "next validation" not in out.stdout and "not shown" not in out.stdout
    assert "logic: 21 failing" in out.stdout and "robustness: 15 failing" in out.stdout


def test_human_report_shows_status_score_and_failing_checks(tmp_path: Path, loopterm: Validate) -> None:
    partial = tmp_path / "partial.py"
    partial.write_text(REFERENCE.read_text().replace('"hello"}', '"goodbye"}'))
    out = loopterm(partial, *MINI, "--repeat", "2")
    assert out.returncode == 1, out.stderr
    assert "PARTIAL" in out.stdout and "2/3 checks" in out.stdout and "score 0.67" in out.stdout
    assert "hello" in out.stdout and "expected msg hello" in out.stdout
    assert "echo:" not in out.stdout  # passing checks are not listed
    assert "latency over 2 validations: min" in out.stdout
    # quota only where the kernel allows mount namespaces
    assert "sandbox: quota, no-capabilities, rlimits" in out.stdout or "sandbox: rlimits" in out.stdout


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
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str, loopterm: Validate) -> None:
    (tmp_path / "bad.py").write_bytes(b"app = '\xff\xfe'\n")
    (tmp_path / "good.py").write_text(REFERENCE.read_text())
    out = loopterm(*args, cwd=tmp_path)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("loopterm: error: ") and message in lines[0], out.stderr


def test_the_quote_approval_reference_passes_every_check(loopterm: Validate) -> None:
    out = loopterm(REPO / "validation/quote-approval/reference.py", "--json")
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr
    data = json.loads(out.stdout)
    assert (data["task"], data["status"], data["passed"]) == ("quote-approval", "PASS", data["total"])
    assert data["total"] == 47
