"""Bad task ids and broken suites end in one line and exit 2, for validate and for rescore."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from support.in_process import LoopTerm, Ran
from support.paths import CANDIDATES
from support.trace_helpers import started, write_trace

from loopterm.events import RaceDone

MINI = CANDIDATES / "task"
REFERENCE = MINI / "validation/mini/reference.py"

BROKEN = {
    "syntax error": ("x = (\n", r"checks.py:\d+: SyntaxError: '\(' was never closed"),
    "raises at import": (
        'raise RuntimeError("suite broken\\nsecond line")\n',
        r"checks.py:\d+: RuntimeError: suite broken$",
    ),
    "imports a missing sibling": (
        "from .nope import x\n",
        r"checks.py:\d+: ModuleNotFoundError: No module named 'nope'$",
    ),
    "exits at import": ("import sys\nsys.exit(3)\n", r"checks.py:\d+: SystemExit: 3$"),
}


@pytest.fixture
def loopterm(loopterm_main: LoopTerm) -> Callable[..., Ran]:
    """The command's entry point in this process (conftest's ``loopterm_main``), 200 columns wide."""

    def run(*args: str | Path, cwd: Path | None = None) -> Ran:
        return loopterm_main(*args, cwd=cwd, env={"COLUMNS": "200"})

    return run


def one_error_line(out: Ran) -> str:
    assert out.returncode == 2, out.stdout + out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("loopterm: error: "), out.stderr
    assert "Traceback" not in out.stderr
    return lines[0]


@pytest.mark.parametrize("task_id", ["", ".", "..", "../validation", "quote-approval/", "Quote-Approval"])
def test_a_task_id_that_is_not_one_plain_name_is_a_usage_error(
    task_id: str, tmp_path: Path, loopterm: Callable[..., Ran]
) -> None:
    line = one_error_line(loopterm("validate", REFERENCE, "--task", task_id, cwd=tmp_path))
    assert f"task id {task_id!r} is not valid" in line


@pytest.fixture(params=list(BROKEN))
def broken_task_dir(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, str]:
    folder = tmp_path / "tasks"
    shutil.copytree(MINI, folder)
    checks = folder / "validation/mini/checks.py"
    tail, pattern = BROKEN[request.param]
    checks.write_text(checks.read_text() + tail)
    return folder, pattern


def test_validate_with_a_broken_suite_names_file_line_and_error(
    broken_task_dir: tuple[Path, str], loopterm: Callable[..., Ran]
) -> None:
    folder, pattern = broken_task_dir
    line = one_error_line(loopterm("validate", REFERENCE, "--task", "mini", "--task-dir", folder))
    assert "task mini: cannot load checks.py: " in line
    assert str(folder / "validation/mini/checks.py") in line
    assert re.search(pattern, line), line


def test_rescore_with_a_broken_suite_names_file_line_and_error(
    broken_task_dir: tuple[Path, str], tmp_path: Path, loopterm: Callable[..., Ran]
) -> None:
    folder, pattern = broken_task_dir
    root = tmp_path / "traces"
    trace = write_trace(root, [started(lanes=(), task_id="mini"), RaceDone(t=1.0)])
    line = one_error_line(loopterm("rescore", trace.name, "--task-dir", folder, "--trace-dir", root))
    assert "task mini: cannot load checks.py: " in line
    assert re.search(pattern, line), line


@pytest.mark.parametrize(
    ("tail", "said"),
    [
        ("SUITE = None\n", "defines no SUITE"),
        ('SUITE = {"checks": []}\n', "SUITE is a dict, not a loopterm.suite.Suite"),
    ],
)
def test_a_suite_that_is_not_a_suite_is_a_usage_error_naming_the_file(
    tail: str, said: str, tmp_path: Path, loopterm: Callable[..., Ran]
) -> None:
    # It was blamed on the sandbox ("the check runner exited before it was ready").
    folder = tmp_path / "tasks"
    shutil.copytree(MINI, folder)
    checks = folder / "validation/mini/checks.py"
    checks.write_text(checks.read_text() + tail)
    line = one_error_line(loopterm("validate", REFERENCE, "--task", "mini", "--task-dir", folder))
    assert f"task mini: {checks}: {said}" in line, line
