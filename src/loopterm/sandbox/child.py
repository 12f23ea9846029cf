"""One validation, in a process forked from the warm worker: lock down, then run the suite.

Order matters. The child first cuts itself off (own session, its own folder,
only the fds it needs), then applies the resource limits, Landlock, seccomp and
the audit hook while it is still single-threaded and before any candidate code
runs, and only then loads the candidate. Results go back to the worker as JSON
lines on fd 3 as soon as each check finishes, so a kill after a hang keeps the
checks already done. The process always ends with ``os._exit``: no cleanup
code of the candidate's (atexit, thread joins) can hold it up.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import io
import json
import os
import resource
import signal
import sys
import tempfile
import traceback
from typing import Any, NoReturn

from loopterm.events import CheckResult
from loopterm.sandbox import guard, landlock, seccomp
from loopterm.sandbox.limits import Limits
from loopterm.sandbox.policy import Policy
from loopterm.suite import Suite

RESULT_FD = 3
CANDIDATE_PREFIX = "candidate_"  # runner.load_app names each candidate module candidate_<n>
CONTRACT_PACKAGES = frozenset({"fastapi", "starlette", "pydantic", "pydantic_core", "typing_extensions",
                               "annotated_types"})
OOM_LOAD = "ran out of memory while being imported"
OOM_CHECK = "the candidate ran out of memory"


_sending = False  # a hang report must not cut into a line being written


def send(message: dict[str, Any]) -> None:
    global _sending
    data = (json.dumps(message, separators=(",", ":")) + "\n").encode()
    _sending = True
    try:
        while data:
            written = os.write(RESULT_FD, data)
            data = data[written:]
    finally:
        _sending = False


def _report_hang(signum: int, frame: Any) -> None:
    """SIGUSR1 from the worker at a timeout: say which line of the candidate is running.

    Python runs this between two bytecodes of whatever the main thread is doing,
    so a busy loop (at import or in an async handler) is caught at its line. A
    thread stuck in C code never gets here; the worker kills it anyway.
    """
    from loopterm.sandbox.runner import candidate_line

    where = candidate_line(frame)
    if where and not _sending:
        send({"t": "stuck", "where": where})


class CappedOutput(io.TextIOBase):
    """sys.stdout/sys.stderr for the candidate: writes through to fd 1 up to a cap, then drops."""

    encoding = "utf-8"

    def __init__(self, fd: int, cap: int) -> None:
        self._fd = fd
        self._left = cap

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self._left > 0 and text:
            data = text.encode("utf-8", "replace")[: self._left]
            self._left -= len(data)
            try:
                while data:
                    data = data[os.write(self._fd, data):]
            except OSError:
                self._left = 0
        return len(text)

    def flush(self) -> None:
        return None

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return False


def _fds(result_w: int, output_w: int) -> None:
    # Move what we keep above the range we are about to fill, then settle it.
    high_result = fcntl.fcntl(result_w, fcntl.F_DUPFD, 10)
    high_output = fcntl.fcntl(output_w, fcntl.F_DUPFD, 10)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(high_output, 1)
    os.dup2(high_output, 2)
    os.dup2(high_result, RESULT_FD)
    os.set_inheritable(RESULT_FD, False)
    # Everything else (the worker's pipes, other children's pipes, its selector) goes.
    os.closerange(RESULT_FD + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[0])


def _system_tasks() -> int:
    try:
        with open("/proc/loadavg") as f:
            return int(f.read().split()[3].split("/")[1])
    except (OSError, IndexError, ValueError):
        return 4096


def _set_limit(which: int, soft: int, hard: int | None = None) -> None:
    _, old_hard = resource.getrlimit(which)
    hard = soft if hard is None else hard
    if old_hard != resource.RLIM_INFINITY:
        hard, soft = min(hard, old_hard), min(soft, old_hard)
    # e.g. macOS refuses RLIMIT_AS; the other layers still apply
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(which, (soft, hard))


def _limits(limits: Limits) -> None:
    mib = 1024 * 1024
    _set_limit(resource.RLIMIT_AS, limits.memory_mib * mib)
    _set_limit(resource.RLIMIT_CPU, limits.cpu_limit_s, limits.cpu_limit_s + 1)
    _set_limit(resource.RLIMIT_FSIZE, limits.file_size_mib * mib)
    _set_limit(resource.RLIMIT_NOFILE, limits.open_files)
    _set_limit(resource.RLIMIT_CORE, 0)
    if hasattr(resource, "RLIMIT_NPROC") and os.geteuid() != 0:
        # Counts every process and thread of this user, so leave room above
        # what already runs; root ignores it (seccomp and the hook stop forks).
        _set_limit(resource.RLIMIT_NPROC, _system_tasks() + limits.threads)


def _signals() -> None:
    signal.set_wakeup_fd(-1)  # the worker's wake-up pipe is closed here
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    # Past RLIMIT_FSIZE a write then fails with EFBIG instead of killing us.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    signal.signal(signal.SIGUSR1, _report_hang)


def _lock_down(policy: Policy, limits: Limits, landlock_abi: int) -> list[str]:
    layers = ["rlimits"]
    _limits(limits)
    if limits.landlock and landlock_abi > 0:
        layers += landlock.restrict(policy, landlock_abi)
    if limits.seccomp and seccomp.install():
        layers.append("seccomp")
    guard.install(policy)
    layers.append("audit-hook")
    return layers


def _contract_imports() -> None:
    """Candidates may import the standard library, FastAPI, Starlette and pydantic only.

    The task contract says so; enforcing it here means a candidate that leans on
    a package that happens to be installed fails the same way everywhere.
    Only imports made by the candidate's own module are checked (the libraries
    it uses import what they like).
    """
    import builtins

    original = builtins.__import__
    allowed = frozenset(sys.stdlib_module_names) | CONTRACT_PACKAGES

    def contract_import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (),
                        level: int = 0) -> Any:
        if (level == 0 and isinstance(globals, dict)
                and str(globals.get("__name__", "")).startswith(CANDIDATE_PREFIX)
                and name.partition(".")[0] not in allowed):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name.partition(".")[0])
        return original(name, globals, locals, fromlist, level)

    builtins.__import__ = contract_import


def _mention_limit(message: str, limits: Limits) -> str:
    if message.startswith((OOM_LOAD, OOM_CHECK)):
        return f"{message} (limit {limits.memory_mib} MiB)"
    return message


def main(
    suite: Suite,
    source: str,
    limits: Limits,
    policy: Policy,
    workdir: str,
    result_w: int,
    output_w: int,
    landlock_abi: int,
) -> NoReturn:
    """Runs in the forked child; never returns."""
    try:
        _fds(result_w, output_w)
        os.setsid()  # own process group: the worker kills all of it at once
        os.chdir(workdir)
        _signals()
        os.environ.update(TMPDIR=workdir, HOME=workdir)
        tempfile.tempdir = workdir
        child_policy = policy.with_workdir(workdir, f"/proc/{os.getpid()}")
        layers = _lock_down(child_policy, limits, landlock_abi)
        _contract_imports()
        cap = limits.output_kib * 1024
        sys.stdout = sys.stderr = CappedOutput(1, cap)
        send({"t": "started", "layers": layers})
        _run(suite, source, limits)
    except BaseException as exc:  # the harness itself broke: say so, never hang
        try:
            where = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
            at = f" ({where[0].filename}:{where[0].lineno})" if where else ""
            text = (str(exc).strip().splitlines() or [""])[0][:300]
            send({"t": "crash", "error": f"{type(exc).__name__}: {text}{at}"})
        except BaseException:
            pass
    os._exit(0)


def _run(suite: Suite, source: str, limits: Limits) -> None:
    from loopterm.sandbox.runner import CandidateLoadError, run_suite

    def on_result(result: CheckResult) -> None:
        data = result.model_dump()
        data["message"] = _mention_limit(result.message, limits)
        send({"t": "check", "result": data})

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    main = loop.create_task(
        run_suite(
            suite,
            source,
            concurrency=limits.concurrency,
            check_timeout=limits.check_timeout_s,
            on_result=on_result,
            on_loaded=lambda: send({"t": "loaded"}),
        )
    )
    try:
        for _ in range(1000):
            try:
                loop.run_until_complete(main)
                break
            except (SystemExit, KeyboardInterrupt):
                # asyncio lets these out of whichever task raised them, here a
                # task of the candidate's app. That task has failed with it; the
                # check awaiting it fails in turn, and the others carry on.
                if main.done():
                    raise
        main.result()
    except CandidateLoadError as exc:
        send({"t": "load_error", "error": _mention_limit(str(exc), limits)})
        return
    # No loop.close(): a candidate's thread spinning forever would make the
    # executor shutdown wait for it. os._exit follows.
    send({"t": "done"})
