"""The Sandbox API: results, streaming, concurrency, a dying worker, cancellation, env, cleanup."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.paths import CANDIDATES
from support.processes import children, until_a_candidate_runs
from support.waiting import wait_for

from loopterm.events import ValidationResult
from loopterm.sandbox import Limits, Sandbox, SandboxError, validate_source
from loopterm.sandbox.worker import scrubbed_env
from loopterm.tasks import find_task

TASK_DIR = CANDIDATES / "task"
REFERENCE = (TASK_DIR / "validation/mini/reference.py").read_text()
# load_timeout_s: long enough that a loaded machine (load 9 on 2 cores) still imports a small
# candidate in time; only the tests that hang at import wait for all of it.
LIMITS = Limits(load_timeout_s=3.0, run_timeout_s=2.0, check_timeout_s=0.5, memory_mib=256)
# /hello and /echo answer; any unknown path busy-loops (a custom 404 handler).
HANGS_ON_404 = (
    REFERENCE
    + """

@app.exception_handler(404)
async def not_found(request, exc):
    while True:
        pass
"""
)


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(find_task("mini", TASK_DIR), limits=LIMITS) as box:
        yield box


@pytest.mark.anyio
async def test_a_passing_candidate(sandbox: Sandbox) -> None:
    result = await sandbox.validate(REFERENCE)
    assert (result.task, result.status, result.score, result.passed, result.total) == ("mini", "PASS", 1.0, 3, 3)
    assert [(c.id, c.group) for c in result.checks] == [
        ("hello", "logic"),
        ("echo", "shape"),
        ("missing", "robustness"),
    ]
    assert all(c.passed and c.message == "" and c.duration_ms >= 0 for c in result.checks)
    assert result.error is None and result.duration_ms > 0
    assert [c.id for c in sandbox.checks] == ["hello", "echo", "missing"]


@pytest.mark.anyio
async def test_a_partial_candidate_names_what_failed(sandbox: Sandbox) -> None:
    result = await sandbox.validate(REFERENCE.replace('"hello"}', '"goodbye"}'))
    assert (result.status, result.passed, round(result.score, 3)) == ("PARTIAL", 2, 0.667)
    assert [c.id for c in result.failing] == ["hello"]
    assert "expected msg hello" in result.failing[0].message


@pytest.mark.anyio
async def test_results_streamed_before_a_kill_are_kept(sandbox: Sandbox) -> None:
    # One check at a time, in order: hello and echo finish, then missing hangs the child.
    result = await sandbox.validate(
        HANGS_ON_404, limits=LIMITS.model_copy(update={"concurrency": 1, "run_timeout_s": 1.0})
    )
    by_id = {c.id: c for c in result.checks}
    assert by_id["hello"].passed and by_id["echo"].passed
    assert by_id["missing"].message.startswith("not run: timed out after 1 s while running the checks")
    assert (result.status, result.passed, result.error) == ("PARTIAL", 2, None)


@pytest.mark.anyio
async def test_eight_concurrent_validations_do_not_block_the_event_loop(sandbox: Sandbox) -> None:
    sources = [REFERENCE, "app = (", REFERENCE.replace('"hello"}', '"x"}'), REFERENCE] * 2
    # One timeline of what the loop ran, in order: a ticker's wake-ups and each
    # validation's start and end. A loop that blocked while validating could not run
    # the ticker inside any validation; one that waits on the children can. Counting
    # those asks nothing of the clock, so a busy machine (longer validations) cannot fail it.
    timeline: list[tuple[str, int]] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            await asyncio.sleep(0.01)  # the point: the ticker's period, its wake-ups are what is counted
            timeline.append(("tick", -1))

    async def validate(i: int, source: str) -> ValidationResult:
        timeline.append(("start", i))
        result = await sandbox.validate(source)
        timeline.append(("end", i))
        return result

    tick = asyncio.create_task(ticker())
    results = await asyncio.gather(*(validate(i, s) for i, s in enumerate(sources)))
    done.set()
    await tick
    assert [r.status for r in results] == ["PASS", "FAIL", "PARTIAL", "PASS"] * 2
    assert results[1].error == "syntax error at line 1: '(' was never closed"
    # The caller's loop kept ticking while eight children ran (a TUI would keep drawing).
    running: set[int] = set()
    ticked: set[int] = set()
    for what, i in timeline:
        if what == "start":
            running.add(i)
        elif what == "end":
            running.discard(i)
        else:
            ticked |= running
    # A blocked loop gives 0 of 8. Not all 8: an answer as quick as the syntax error's
    # can fall between two ticks.
    assert len(ticked) >= 6, f"the event loop was blocked: it ticked during {len(ticked)} of 8 validations"


@pytest.mark.anyio
async def test_a_dead_runner_is_replaced_and_its_validations_run_again() -> None:
    async with Sandbox(find_task("mini", TASK_DIR), limits=LIMITS) as box:
        running = asyncio.create_task(box.validate(REFERENCE))
        first_pid = await until_a_candidate_runs(box)  # it dies mid-validation
        os.kill(first_pid, signal.SIGKILL)
        result = await asyncio.wait_for(running, 60)  # only so that a hang fails rather than waits
        # The sandbox's death is not the candidate's failure: it ran again on a new runner.
        assert (result.status, result.infrastructure_error) == ("PASS", None)
        assert box.worker_pid not in (None, first_pid)


@pytest.mark.anyio
async def test_a_runner_that_keeps_dying_ends_the_validation_with_a_clear_error() -> None:
    async with Sandbox(find_task("mini", TASK_DIR), limits=LIMITS) as box:
        killed: list[int] = []

        async def kill_each_runner() -> None:
            while len(killed) < 2:  # the first run and the run again, each while its candidate runs
                pid = await until_a_candidate_runs(box, not_on=killed)
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

        killer = asyncio.create_task(kill_each_runner())
        result = await asyncio.wait_for(box.validate(candidate_source("import_loop")), 60)  # a hang fails
        await killer
        assert result.status == "FAIL"
        assert result.infrastructure_error is not None
        assert result.error is not None and result.error.startswith("the sandbox's check runner died")
        assert "it restarts for the next validation" in result.error
        again = await box.validate(REFERENCE)
        assert again.status == "PASS" and box.worker_pid not in (None, *killed)


@pytest.mark.anyio
async def test_cancelling_a_validation_returns_at_once_and_the_sandbox_goes_on(sandbox: Sandbox) -> None:
    # The import loop would run until its load timeout, a minute away: cancelling must not wait for it.
    patient = LIMITS.model_copy(update={"load_timeout_s": 60.0})
    task = asyncio.create_task(sandbox.validate(candidate_source("import_loop"), limits=patient))
    pid = await until_a_candidate_runs(sandbox)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, patient.load_timeout_s / 2)  # long before the candidate's own deadline
    assert (await sandbox.validate(REFERENCE)).status == "PASS"
    assert sandbox.worker_pid == pid
    # The runner's one child is the warm process; it kills and reaps the cancelled candidate
    # (which would loop for a minute) and the finished one, long before that minute is up.
    (warm,) = children(pid)
    await wait_for(
        lambda: children(warm) == [], patient.load_timeout_s / 2, what="the warm process to reap both candidates"
    )


@pytest.mark.anyio
async def test_each_validation_cleans_its_folder_and_close_removes_the_worker_folder() -> None:
    box = Sandbox(find_task("mini", TASK_DIR), limits=LIMITS)
    async with box:
        assert box._worker is not None
        root = Path(box._worker.root)
        writer = REFERENCE + '\nopen("left-behind.txt", "w").write("x" * 1000)\n'
        assert (await box.validate(writer)).status == "PASS"
        # The job's folder goes when the warm process reaps the candidate, just after the report.
        await wait_for(lambda: not any(root.iterdir()), what="the job's folder to go")
    assert not root.exists()
    with pytest.raises(SandboxError, match="closed"):
        await box.validate(REFERENCE)


def test_scrubbed_env_keeps_only_safe_names_and_the_allowed_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setenv("LOOPTERM_TEST_ALLOWED", "yes")
    env = scrubbed_env(["LOOPTERM_TEST_ALLOWED"], "/tmp/root")
    assert env["LOOPTERM_TEST_ALLOWED"] == "yes"
    assert "OPENAI_API_KEY" not in env and "AWS_SECRET_ACCESS_KEY" not in env
    assert "sk-secret" not in env.values() and "secret" not in env.values()
    assert env["HOME"] == env["TMPDIR"] == "/tmp/root"


def test_allow_env_passes_a_named_variable_through(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOOPTERM_TEST_ALLOWED", "visible")
    monkeypatch.setenv("LOOPTERM_TEST_HIDDEN", "hidden")
    source = (
        REFERENCE + '\nimport os\nprint(os.environ.get("LOOPTERM_TEST_ALLOWED"), '
        'os.environ.get("LOOPTERM_TEST_HIDDEN"))\n'
    )
    result = validate_source(find_task("mini", TASK_DIR), source, limits=LIMITS, allow_env=["LOOPTERM_TEST_ALLOWED"])
    assert result.status == "PASS"
    assert result.output.strip() == "visible None"


@pytest.mark.anyio
async def test_a_broken_suite_is_a_sandbox_error_with_one_line(tmp_path: Path) -> None:
    shutil.copytree(TASK_DIR, tmp_path, dirs_exist_ok=True)
    (tmp_path / "validation/mini/checks.py").write_text("raise RuntimeError('the suite is broken')\n")
    # The suite's own error names its file and line (tasks.TaskError), inside the sandbox's line.
    with pytest.raises(SandboxError) as caught:
        async with Sandbox(find_task("mini", tmp_path)):
            pass
    assert re.fullmatch(
        r"task mini: the suite did not load: cannot load checks\.py: \S*checks\.py:1: "
        r"RuntimeError: the suite is broken",
        str(caught.value),
    ), str(caught.value)


def candidate_source(name: str) -> str:
    return (CANDIDATES / f"{name}.py").read_text()


@pytest.mark.anyio
async def test_the_real_task_scores_the_same_in_the_sandbox_as_in_process() -> None:
    from loopterm.faults import apply_faults
    from loopterm.sandbox.runner import run_suite

    task = find_task("quote-approval")
    faults = task.faults[:: max(1, len(task.faults) // 7)][:7]
    sources = [task.reference_source] + [apply_faults(task.reference_source, [f]) for f in faults]
    async with Sandbox(task) as box:
        boxed = await asyncio.gather(*(box.validate(s) for s in sources))
        assert box.layers[-1] == "audit-hook"
    reference = boxed[0]
    assert (reference.status, reference.passed, reference.total) == ("PASS", 47, 47)
    for fault, source, result in zip(faults, sources[1:], boxed[1:], strict=True):
        failing = {c.id for c in result.failing}
        assert result.status != "PASS" and fault.breaks <= failing, fault.id
        # The lockdown changes nothing a correct candidate relies on: same verdicts as in-process.
        in_process = await run_suite(task.suite, source)
        assert failing == {c.id for c in in_process if not c.passed}, fault.id
