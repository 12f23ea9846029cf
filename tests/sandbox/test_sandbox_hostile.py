"""Hostile and broken candidates: each ends in a clear ValidationResult, never a hang or a crash.

They run through one real Sandbox (a real worker, real forked children, the
real kernel layers when this kernel has them) on a three-check task, with
short timeouts so the whole file takes seconds.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from support.paths import CANDIDATES

from loopterm.events import ValidationResult
from loopterm.sandbox import Limits, Sandbox
from loopterm.tasks import find_task

# load_timeout_s: long enough that a loaded machine (load 9 on 2 cores) still imports a small
# candidate in time; only the tests that hang at import wait for all of it.
LIMITS = Limits(load_timeout_s=3.0, run_timeout_s=2.0, check_timeout_s=0.5, memory_mib=256)
SHORT_RUN = LIMITS.model_copy(update={"run_timeout_s": 1.0})  # for candidates that must hit the timeout
SECRET = "sk-test-not-a-real-key-5f2e9c"


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def sandbox() -> AsyncIterator[Sandbox]:
    # Secrets in the parent's environment: the candidates must never see them.
    saved = {k: os.environ.get(k) for k in ("OPENAI_API_KEY", "INCEPTION_API_KEY", "GITHUB_TOKEN")}
    os.environ.update(OPENAI_API_KEY=SECRET, INCEPTION_API_KEY=SECRET, GITHUB_TOKEN=SECRET)
    try:
        async with Sandbox(find_task("mini", CANDIDATES / "task"), limits=LIMITS) as box:
            yield box
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def candidate(name: str, **replace: str) -> str:
    source = (CANDIDATES / f"{name}.py").read_text()
    for key, value in replace.items():
        source = source.replace(f"__{key.upper()}__", value)
    return source


def assert_not_loaded(result: ValidationResult, error_start: str) -> None:
    assert result.status == "FAIL"
    assert result.error is not None and result.error.startswith(error_start), result.error
    assert "\n" not in result.error
    assert (result.passed, result.total, result.score) == (0, 3, 0.0)
    # Every check is still listed, failed with the reason, so totals never change.
    assert [c.id for c in result.checks] == ["hello", "echo", "missing"]
    assert all(not c.passed and result.error in c.message for c in result.checks)


@pytest.mark.anyio
async def test_the_reference_passes_with_every_layer_on(sandbox: Sandbox) -> None:
    result = await sandbox.validate((CANDIDATES / "task/validation/mini/reference.py").read_text())
    assert (result.status, result.passed, result.total, result.error) == ("PASS", 3, 3, None)
    assert "audit-hook" in sandbox.layers and "rlimits" in sandbox.layers


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("syntax_error", "syntax error at line 3: '(' was never closed"),
        ("missing_module", "imports a module that is not available: 'numpy'"),
        ("sys_exit", "called sys.exit(3) while being imported"),
        ("no_app", "defines no module-level `app`"),
        ("app_not_asgi", "`app` is a str, not an ASGI application"),
    ],
)
async def test_broken_candidates_fail_with_one_line_why(sandbox: Sandbox, name: str, error: str) -> None:
    assert_not_loaded(await sandbox.validate(candidate(name)), error)


@pytest.mark.anyio
async def test_infinite_loop_at_import_times_out_while_loading(sandbox: Sandbox) -> None:
    start = time.monotonic()
    result = await sandbox.validate(candidate("import_loop"))
    assert_not_loaded(result, f"timed out after {LIMITS.load_timeout_s:g} s while loading (infinite loop at import?)")
    assert result.error.endswith(("; it was running line 3", "; it was running line 4")), result.error
    # It ran until its deadline, where the sandbox's own timeout ended it (the message says so;
    # had nothing killed it, the parent's watchdog would have, much later, saying something else).
    assert time.monotonic() - start >= LIMITS.load_timeout_s


@pytest.mark.anyio
async def test_busy_async_handler_fails_its_check_with_the_line_at_the_check_timeout(sandbox: Sandbox) -> None:
    result = await sandbox.validate(candidate("async_handler_loop"))
    assert result.error is None and result.status == "FAIL"
    hello = next(c for c in result.checks if c.id == "hello")
    # Found by the check's own timeout (with the line), not by the run's.
    assert hello.message.startswith("a request blocked the candidate's whole server for 0.5 s")
    assert hello.message.endswith(("; it was running line 8 (in hello)", "; it was running line 9 (in hello)"))
    others = [c for c in result.checks if c.id != "hello"]
    assert all(
        c.message.startswith("not run: a request blocked the candidate's whole server") or c.passed for c in others
    ), [c.message for c in others]
    assert result.infrastructure_error is None


@pytest.mark.anyio
async def test_busy_async_handler_is_killed_at_the_run_timeout_when_that_comes_first(sandbox: Sandbox) -> None:
    start = time.monotonic()
    patient = SHORT_RUN.model_copy(update={"check_timeout_s": 30.0})
    result = await sandbox.validate(candidate("async_handler_loop"), limits=patient)
    assert result.error is None  # it loaded; the run is what hung
    assert result.status == "FAIL"
    hello = next(c for c in result.checks if c.id == "hello")
    assert hello.message.startswith("not run: timed out after 1 s while running the checks")
    # The model is told where: the busy line, in the handler.
    assert hello.message.endswith(("; it was running line 8 (in hello)", "; it was running line 9 (in hello)")), (
        hello.message
    )
    assert time.monotonic() - start >= SHORT_RUN.run_timeout_s  # killed at the run timeout, not before


@pytest.mark.anyio
async def test_busy_sync_handler_fails_only_its_check(sandbox: Sandbox) -> None:
    result = await sandbox.validate(candidate("sync_handler_loop"))
    by_id = {c.id: c for c in result.checks}
    assert result.status == "PARTIAL"
    assert by_id["echo"].passed and by_id["missing"].passed
    assert by_id["hello"].message.startswith("no answer within 0.5 s")


@pytest.mark.anyio
async def test_memory_bomb_at_import_names_the_limit(sandbox: Sandbox) -> None:
    assert_not_loaded(
        await sandbox.validate(candidate("memory_bomb")), "ran out of memory while being imported (limit 256 MiB)"
    )


@pytest.mark.anyio
async def test_memory_bomb_in_a_handler_fails_that_check_and_the_rest_run(sandbox: Sandbox) -> None:
    result = await sandbox.validate(candidate("memory_bomb_handler"))
    by_id = {c.id: c for c in result.checks}
    assert result.status == "PARTIAL" and not by_id["hello"].passed
    assert by_id["echo"].passed and by_id["missing"].passed


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("name", "what"),
    [("fork_bomb", "os.fork"), ("subprocess_bomb", "subprocess.Popen"), ("multiprocessing_bomb", "os.fork")],
)
async def test_process_creation_is_refused(sandbox: Sandbox, name: str, what: str) -> None:
    result = await sandbox.validate(candidate(name))
    assert_not_loaded(result, "raised SandboxDenied while being imported at line")
    assert f"blocked by the loopterm sandbox: {what}" in (result.error or "")


@pytest.mark.anyio
async def test_100_mb_of_output_is_capped_and_the_run_still_passes(sandbox: Sandbox) -> None:
    result = await sandbox.validate(candidate("big_output"))
    assert result.status == "PASS"
    cap = LIMITS.output_kib * 1024
    assert result.output.startswith("x" * 1000)
    assert len(result.output) < cap + 200
    assert result.output.rstrip().endswith("more bytes of output dropped]")


@pytest.mark.anyio
async def test_candidate_sees_no_secret_in_its_env_or_its_ancestors(sandbox: Sandbox) -> None:
    result = await sandbox.validate(candidate("env_reader"))
    assert result.error is None
    assert "ENVIRON {" in result.output  # it did print its whole environment...
    for name in ("OPENAI_API_KEY", "INCEPTION_API_KEY", "GITHUB_TOKEN"):
        assert name not in result.output  # ...and none of the parent's keys is in it
    assert SECRET not in result.output
    # Reading the worker's or the test runner's /proc/<pid>/environ is refused.
    assert "PROC" in result.output and "blocked by the loopterm sandbox" in result.output


@pytest.mark.anyio
async def test_writing_outside_its_folder_creates_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    target = tmp_path / "pwned.txt"
    result = await sandbox.validate(candidate("write_outside", target=str(target)))
    assert result.error is None
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []
    lines = result.output.splitlines()
    refused = {line.split()[1] for line in lines if line.startswith("REFUSED")}
    assert refused == {"open", "os.open", "pathlib", "dir_fd", "shutil", "rename", "symlink"}
    assert not any(line.startswith("WROTE") for line in lines)
    assert "INSIDE ok" in lines  # its own folder stays writable


@pytest.mark.anyio
async def test_no_network_connection_leaves_the_child(sandbox: Sandbox) -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(0)
        port = server.getsockname()[1]
        result = await sandbox.validate(candidate("network", port=str(port)))
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody knocked
    assert "CONNECTED" not in result.output
    assert {line.split()[1] for line in result.output.splitlines() if line.startswith("REFUSED")} == {
        "tcp",
        "udp",
        "unix",
    }


@pytest.mark.anyio
async def test_signals_to_other_processes_are_refused(sandbox: Sandbox) -> None:
    pid = sandbox.worker_pid
    result = await sandbox.validate(candidate("kill_parent"))
    assert "KILLED" not in result.output
    assert sandbox.worker_pid == pid and pid is not None
    os.kill(pid, 0)  # the worker is alive
    after = await sandbox.validate((CANDIDATES / "task/validation/mini/reference.py").read_text())
    assert after.status == "PASS"


@pytest.mark.anyio
async def test_known_ways_around_the_audit_hook_are_closed(sandbox: Sandbox) -> None:
    result = await sandbox.validate(candidate("escape_attempts"))
    assert result.error is None
    lines = result.output.splitlines()
    assert not [line for line in lines if line.startswith("ESCAPED")]
    refused = {line.split()[1] for line in lines if line.startswith("REFUSED")}
    assert refused == {
        "via_ctypes",
        "via_fork_exec",
        "via_reimport",
        "via_posix_spawn",
        "via_pty",
        "via_heap",
        "via_rlimit",
        "via_proc_mem",
    }


@pytest.mark.anyio
async def test_os_exit_at_import_is_reported_as_such(sandbox: Sandbox) -> None:
    assert_not_loaded(
        await sandbox.validate(candidate("exit_hard")),
        "the candidate process exited with code 7 while loading (os._exit?)",
    )


@pytest.mark.anyio
async def test_a_crash_in_a_handler_keeps_the_checks_already_done(sandbox: Sandbox) -> None:
    # One check at a time, in order: hello and echo pass, then the 404 handler crashes the child.
    result = await sandbox.validate(candidate("segfault"), limits=LIMITS.model_copy(update={"concurrency": 1}))
    assert result.error is None  # it loaded; the crash came later
    by_id = {c.id: c for c in result.checks}
    assert (result.status, result.passed) == ("PARTIAL", 2) and by_id["hello"].passed and by_id["echo"].passed
    assert by_id["missing"].message == "not run: the candidate process crashed (SIGSEGV)"


@pytest.mark.anyio
async def test_sys_exit_in_a_handler_fails_that_check_only(sandbox: Sandbox) -> None:
    result = await sandbox.validate(candidate("exit_in_handler"))
    by_id = {c.id: c for c in result.checks}
    assert (result.status, result.passed, result.error) == ("PARTIAL", 2, None)
    # The candidate's process answers that request with a 500 saying why, and serves the rest.
    assert not by_id["hello"].passed and by_id["hello"].message == "GET /hello: expected 200, got 500"


@pytest.mark.anyio
async def test_a_loop_that_will_not_say_where_it_hangs_is_still_killed(sandbox: Sandbox) -> None:
    # At the timeout the worker asks the child (SIGUSR1) which line it runs; a child that
    # ignores the question is killed after a short grace, with the plain reason.
    start = time.monotonic()
    source = "import signal\nsignal.signal(signal.SIGUSR1, signal.SIG_IGN)\nwhile True:\n    pass\n"
    result = await sandbox.validate(source)
    assert_not_loaded(result, f"timed out after {LIMITS.load_timeout_s:g} s while loading (infinite loop at import?)")
    assert result.error == f"timed out after {LIMITS.load_timeout_s:g} s while loading (infinite loop at import?)"
    # Killed after the grace by the sandbox's timeout, not left to the parent's watchdog (another message).
    assert time.monotonic() - start >= LIMITS.load_timeout_s
