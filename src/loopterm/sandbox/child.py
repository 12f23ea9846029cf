"""One candidate process, forked from the warm process: lock down, then serve the candidate's app.

Order matters. The child first cuts itself off (own session, killed with its
parent, its own folder on a private size-limited tmpfs, only the fds it needs),
then applies the resource limits, Landlock, seccomp and the audit hook while it
is still single-threaded and before any candidate code runs, reports the
layers it applied, and only then reads and loads the candidate. From there it
only serves HTTP requests as frames on fd 3 (``serve.py``); the checks and the
verdict live in the check runner, another process it cannot reach. The
process always ends by being killed or with ``os._exit``: no cleanup code of
the candidate's (atexit, thread joins) can hold anything up.
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
import resource
import signal
import socket
import sys
import tempfile
import traceback
from typing import Any, NoReturn

from loopterm.sandbox import caps, guard, landlock, quota, seccomp
from loopterm.sandbox.frames import encode
from loopterm.sandbox.limits import Limits
from loopterm.sandbox.policy import Policy

SOCKET_FD = 3
WHERE_FD = 4
CANDIDATE_PREFIX = "candidate_"  # loader.load_app names each candidate module candidate_<n>
CONTRACT_PACKAGES = frozenset(
    {"fastapi", "starlette", "pydantic", "pydantic_core", "typing_extensions", "annotated_types"}
)
PR_SET_PDEATHSIG = 1


def _report_hang(signum: int, frame: Any) -> None:
    """SIGUSR1 from the check runner at a timeout: say which line of the candidate is running.

    Python runs this between two bytecodes of whatever the main thread is doing,
    so a busy loop (at import or in an async handler) is caught at its line. It
    writes to its own pipe, never the request socket, so it cannot cut into a
    frame. A thread stuck in C code never gets here; the runner kills it anyway.
    """
    from loopterm.sandbox.loader import candidate_line

    where = candidate_line(frame)
    if where:
        with contextlib.suppress(OSError):
            # One line each: asked twice, the answers must not run together in one read.
            os.write(WHERE_FD, where.encode()[:200] + b"\n")


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
                    data = data[os.write(self._fd, data) :]
            except OSError:
                self._left = 0
        return len(text)

    def flush(self) -> None:
        return None

    def fileno(self) -> int:
        return self._fd

    def isatty(self) -> bool:
        return False


def _fds(sock: int, output_w: int, where_w: int) -> None:
    # Move what we keep above the range we are about to fill, then settle it.
    high = [fcntl.fcntl(fd, fcntl.F_DUPFD, 10) for fd in (sock, output_w, where_w)]
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(high[1], 1)
    os.dup2(high[1], 2)
    os.dup2(high[0], SOCKET_FD)
    os.dup2(high[2], WHERE_FD)
    for fd in (SOCKET_FD, WHERE_FD):
        os.set_inheritable(fd, False)
    # Everything else (the warm process's control socket, its selector) goes.
    os.closerange(WHERE_FD + 1, resource.getrlimit(resource.RLIMIT_NOFILE)[0])


def _die_with_parent() -> None:
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


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
    layers = []
    if limits.quota_mib and quota.private_tmpfs(policy.workdir, limits.quota_mib):
        os.chdir(policy.workdir)  # the old cwd is the folder under the new mount
        layers.append("quota")
    if caps.drop_all():  # after the mount, which needs CAP_SYS_ADMIN
        layers.append("no-capabilities")
    layers.append("rlimits")
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

    def contract_import(name: str, globals: Any = None, locals: Any = None, fromlist: Any = (), level: int = 0) -> Any:
        if (
            level == 0
            and isinstance(globals, dict)
            and str(globals.get("__name__", "")).startswith(CANDIDATE_PREFIX)
            and name.partition(".")[0] not in allowed
        ):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name.partition(".")[0])
        return original(name, globals, locals, fromlist, level)

    builtins.__import__ = contract_import


def main(
    sock: int,
    output_w: int,
    where_w: int,
    limits: Limits,
    policy: Policy,
    workdir: str,
    landlock_abi: int,
) -> NoReturn:
    """Runs in the forked child; never returns."""
    try:
        _fds(sock, output_w, where_w)
        os.setsid()  # own process group: it is killed all at once
        _die_with_parent()
        os.chdir(workdir)
        _signals()
        os.environ.update(TMPDIR=workdir, HOME=workdir)
        tempfile.tempdir = workdir
        child_policy = policy.with_workdir(workdir, f"/proc/{os.getpid()}")
        conn = socket.socket(fileno=SOCKET_FD)
        conn.setblocking(True)
        layers = _lock_down(child_policy, limits, landlock_abi)
        _contract_imports()
        sys.stdout = sys.stderr = CappedOutput(1, limits.output_kib * 1024)
        # Sent before any candidate code has run, so it is the truth.
        conn.sendall(encode({"t": "started", "layers": layers}))
        from loopterm.sandbox import serve

        serve.run(conn, serve.first_source(conn))
    except BaseException as exc:  # the harness itself broke: say so on stderr (the runner keeps it)
        with contextlib.suppress(BaseException):
            where = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
            at = f" ({where[0].filename}:{where[0].lineno})" if where else ""
            text = (str(exc).strip().splitlines() or [""])[0][:300]
            os.write(2, f"loopterm sandbox: the candidate process stopped: {type(exc).__name__}: {text}{at}\n".encode())
    os._exit(0)
