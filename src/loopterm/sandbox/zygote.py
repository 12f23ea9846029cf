"""The warm worker: imports everything once, then forks one child per validation.

Run as ``python -m loopterm.sandbox.zygote '<task json>'`` by :class:`Sandbox`,
with a scrubbed environment in a fresh temp folder. It imports FastAPI,
pydantic, httpx, the common stdlib modules and the task's suite, warms them up
with one request to a tiny app of its own, freezes the heap (so forks share
it), then serves JSON lines:

parent -> worker (stdin)::

    {"op": "validate", "job": 7, "source": "...", "limits": {...Limits}}
    {"op": "cancel", "job": 7}

worker -> parent (stdout)::

    {"type": "ready", "pid": 123, "checks": [{"id", "group", "description"}], "landlock_abi": 7, "seccomp": true}
    {"type": "fatal", "error": "..."}                  # the suite did not load; the worker exits
    {"type": "started", "job": 7, "layers": ["rlimits", "landlock-fs", ...]}
    {"type": "loaded", "job": 7}
    {"type": "check", "job": 7, "result": {...CheckResult}}
    {"type": "load_error", "job": 7, "error": "syntax error at line 3: ..."}
    {"type": "end", "job": 7, "reason": null | "timed out after ...", "output": "...", "dropped": 0}

Every job ends with exactly one ``end``. The worker is one thread around a
selector (forking a threaded process is unsafe): it reads the parent's
requests, each child's result pipe and output pipe, a wake-up pipe for
SIGCHLD, and it enforces each job's wall-clock deadline (load timeout until
the child reports ``loaded``, then the run timeout) by killing the child's
whole process group. EOF on stdin means the parent is gone: it kills every
child and exits.
"""

from __future__ import annotations

import contextlib
import errno
import gc
import json
import os
import selectors
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from loopterm.sandbox import child
from loopterm.sandbox.limits import Limits

# What a candidate typically imports, loaded once here so each fork starts warm.
PRELOAD = (
    "asyncio", "collections", "contextlib", "copy", "dataclasses", "datetime", "decimal", "enum",
    "functools", "hashlib", "http", "itertools", "json", "logging", "math", "operator", "random",
    "re", "secrets", "string", "threading", "time", "typing", "typing_extensions", "uuid",
    "zoneinfo", "base64", "email.utils", "fractions", "statistics", "traceback", "weakref",
    "pydantic", "pydantic.fields", "pydantic_core", "starlette", "starlette.applications",
    "starlette.requests", "starlette.responses", "starlette.exceptions", "starlette.middleware",
    "starlette.routing", "starlette.status", "fastapi", "fastapi.responses", "fastapi.exceptions",
    "fastapi.encoders", "fastapi.middleware", "fastapi.routing", "httpx", "anyio",
    "anyio._backends._asyncio", "anyio.to_thread",
)
MAX_LINE = 8 * 1024 * 1024
READ_CHUNK = 1 << 16
MAX_READS = 16
# At a timeout the child is asked (SIGUSR1) which line it is running; this long, at most.
HANG_REPORT_S = 0.5


def _write(obj: dict[str, Any]) -> None:
    data = (json.dumps(obj, separators=(",", ":")) + "\n").encode()
    while data:
        data = data[os.write(1, data):]


def _preload() -> None:
    import importlib

    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def _warm_up() -> None:
    """One request through a tiny app: fills FastAPI's and pydantic's lazy caches."""
    import asyncio

    import httpx
    from fastapi import FastAPI
    from pydantic import BaseModel, Field

    class Item(BaseModel):
        name: str = Field(min_length=1)
        quantity: int = Field(ge=1)

    app = FastAPI()

    @app.post("/items", status_code=201)
    async def create(item: Item) -> dict[str, Any]:  # async: a sync handler would start a thread
        return {"item": item.model_dump()}

    async def go() -> None:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://warm") as client:
            await client.post("/items", json={"name": "a", "quantity": 1})
            await client.post("/items", json={"name": "", "quantity": 0})
            await client.get("/missing")

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(go())
    finally:
        loop.close()
        asyncio.set_event_loop(None)


def _warm_up_reference(task: Any) -> None:
    """Load the task's own reference once: its models and routes fill the caches a candidate hits.

    The reference is part of the task (as trusted as the checks); loading it
    starts no thread, so forking afterwards stays safe.
    """
    from loopterm.sandbox.runner import CandidateLoadError, load_app

    try:
        source = task.reference_source
    except Exception:  # a task without a reference still works, just a little colder
        return
    with contextlib.suppress(CandidateLoadError):
        load_app(source, "reference.py")


@dataclass
class Job:
    id: int
    pid: int
    workdir: str
    result_r: int
    output_r: int
    limits: Limits
    deadline: float
    loaded: bool = False
    done: bool = False
    load_error: bool = False
    crash: str | None = None
    reason: str | None = None
    status: int | None = None  # waitpid status once it exited
    timed_out: str | None = None  # the timeout's reason, while the child reports where it hangs
    buffer: bytearray = field(default_factory=bytearray)
    output: bytearray = field(default_factory=bytearray)
    dropped: int = 0
    open_fds: set[int] = field(default_factory=set)


class Zygote:
    def __init__(self, suite: Any, policy: Any, landlock_abi: int, root: str) -> None:
        self.suite = suite
        self.policy = policy
        self.landlock_abi = landlock_abi
        self.root = root
        self.jobs: dict[int, Job] = {}
        self.by_fd: dict[int, tuple[Job, str]] = {}
        self.sel = selectors.DefaultSelector()
        self.stdin_buffer = bytearray()
        self.running = True

    # -- setup ---------------------------------------------------------------
    def serve(self) -> None:
        wake_r, wake_w = os.pipe()
        for fd in (wake_r, wake_w, 0):
            os.set_blocking(fd, False)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # the wake-up fd does the work
        self.sel.register(0, selectors.EVENT_READ, "stdin")
        self.sel.register(wake_r, selectors.EVENT_READ, "wake")
        while self.running or self.jobs:
            for key, _ in self.sel.select(self._timeout()):
                if key.data == "stdin":
                    self._read_stdin()
                elif key.data == "wake":
                    with contextlib.suppress(BlockingIOError):
                        while os.read(wake_r, 4096):
                            pass
                else:
                    job, kind = self.by_fd[key.fd]
                    self._read_child(job, key.fd, kind)
            self._enforce_deadlines()
            self._reap()

    def _timeout(self) -> float | None:
        live = [j.deadline for j in self.jobs.values() if j.status is None and j.reason is None]
        if not live:
            return None
        return max(0.0, min(live) - time.monotonic())

    # -- parent requests -------------------------------------------------------
    def _read_stdin(self) -> None:
        try:
            chunk = os.read(0, READ_CHUNK * 16)
        except BlockingIOError:
            return
        if not chunk:  # the parent is gone: stop everything
            self.running = False
            self.sel.unregister(0)
            for job in self.jobs.values():
                self._kill(job, "the sandbox is shutting down")
            return
        self.stdin_buffer += chunk
        while (end := self.stdin_buffer.find(b"\n")) >= 0:
            line = bytes(self.stdin_buffer[:end])
            del self.stdin_buffer[: end + 1]
            if line.strip():
                self._request(json.loads(line))

    def _request(self, message: dict[str, Any]) -> None:
        op = message.get("op")
        if op == "validate":
            self._start(int(message["job"]), message["source"], message.get("limits") or {})
        elif op == "cancel":
            job = self.jobs.get(int(message["job"]))
            if job is not None:
                self._kill(job, "cancelled")

    def _start(self, job_id: int, source: str, raw_limits: dict[str, Any]) -> None:
        limits = Limits.model_validate(raw_limits)
        workdir = tempfile.mkdtemp(prefix=f"job{job_id}-", dir=self.root)
        result_r, result_w = os.pipe()
        output_r, output_w = os.pipe()
        try:
            pid = os.fork()
        except OSError as exc:
            for fd in (result_r, result_w, output_r, output_w):
                os.close(fd)
            shutil.rmtree(workdir, ignore_errors=True)
            _write({"type": "end", "job": job_id, "reason": f"could not start a process: {exc.strerror}",
                    "output": "", "dropped": 0})
            return
        if pid == 0:  # the child: never returns
            child.main(self.suite, source, limits, self.policy, workdir, result_w, output_w, self.landlock_abi)
        os.close(result_w)
        os.close(output_w)
        job = Job(job_id, pid, workdir, result_r, output_r, limits, time.monotonic() + limits.load_timeout_s)
        self.jobs[job_id] = job
        for fd, kind in ((result_r, "result"), (output_r, "output")):
            os.set_blocking(fd, False)
            self.sel.register(fd, selectors.EVENT_READ, "child")
            self.by_fd[fd] = (job, kind)
            job.open_fds.add(fd)

    # -- children --------------------------------------------------------------
    def _read_child(self, job: Job, fd: int, kind: str) -> bool:
        """Read what the pipe holds; True when it stopped early and more may be waiting."""
        # A bounded number of reads per call: a child writing without pause
        # must not keep this loop from the other jobs and from the deadlines.
        for _ in range(MAX_READS):
            try:
                chunk = os.read(fd, READ_CHUNK)
            except BlockingIOError:
                return False
            except OSError:
                chunk = b""
            if not chunk:
                self._close_fd(job, fd)
                return False
            if kind == "output":
                self._keep_output(job, chunk)
            else:
                self._results(job, chunk)
            if len(chunk) < READ_CHUNK:
                return False
        return True

    def _keep_output(self, job: Job, chunk: bytes) -> None:
        room = job.limits.output_kib * 1024 - len(job.output)
        if room > 0:
            job.output += chunk[:room]
        job.dropped += max(0, len(chunk) - max(room, 0))

    def _results(self, job: Job, chunk: bytes) -> None:
        job.buffer += chunk
        while (end := job.buffer.find(b"\n")) >= 0:
            line = bytes(job.buffer[:end])
            del job.buffer[: end + 1]
            self._result_line(job, line)
        if len(job.buffer) > MAX_LINE:  # not ours: a candidate writing into fd 3
            job.buffer.clear()

    def _result_line(self, job: Job, line: bytes) -> None:
        try:
            message = json.loads(line)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        kind = message.get("t")
        if kind == "started":
            _write({"type": "started", "job": job.id, "layers": message.get("layers", [])})
        elif kind == "loaded" and not job.loaded:
            job.loaded = True
            if job.timed_out is None:  # not when it is already being asked where it hung
                job.deadline = time.monotonic() + job.limits.run_timeout_s
            _write({"type": "loaded", "job": job.id})
        elif kind == "check" and isinstance(message.get("result"), dict):
            _write({"type": "check", "job": job.id, "result": message["result"]})
        elif kind == "load_error":
            job.load_error = True
            _write({"type": "load_error", "job": job.id, "error": str(message.get("error"))})
        elif kind == "crash":
            job.crash = str(message.get("error"))
        elif kind == "stuck" and job.timed_out is not None:
            self._kill(job, f"{job.timed_out}; it was running {str(message.get('where'))[:100]}")
        elif kind == "done":
            job.done = True

    def _close_fd(self, job: Job, fd: int) -> None:
        if fd in job.open_fds:
            self.sel.unregister(fd)
            os.close(fd)
            job.open_fds.discard(fd)
            self.by_fd.pop(fd, None)

    def _kill(self, job: Job, reason: str) -> None:
        if job.status is not None:
            return
        if job.reason is None:
            job.reason = reason
        # The child is not reaped yet, so its pid still names it and its group.
        # Both: right after the fork it may not have called setsid() yet.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(job.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(job.pid, signal.SIGKILL)

    def _enforce_deadlines(self) -> None:
        now = time.monotonic()
        for job in list(self.jobs.values()):
            if job.status is None and job.reason is None and now >= job.deadline:
                if job.timed_out is not None:  # it did not say where it hangs: kill it anyway
                    self._kill(job, job.timed_out)
                    continue
                limits = job.limits
                if job.loaded:
                    job.timed_out = (f"timed out after {limits.run_timeout_s:g} s while running the checks (a "
                                     "handler that never returns? a busy loop in an async handler blocks every "
                                     "request)")
                else:
                    job.timed_out = (f"timed out after {limits.load_timeout_s:g} s while loading (infinite loop "
                                     "at import?)")
                # Ask which line it is running (child._report_hang); its answer ends it.
                job.deadline = now + HANG_REPORT_S
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(job.pid, signal.SIGUSR1)

    def _reap(self) -> None:
        for job in list(self.jobs.values()):
            if job.status is None and not self._exited(job):
                continue
            self._finish(job)

    @staticmethod
    def _exited(job: Job) -> bool:
        """Reap the child if it has exited, after killing whatever it left in its group."""
        if hasattr(os, "waitid"):
            try:
                # WNOWAIT: learn that it exited without freeing its pid, so
                # killing its group below cannot hit a recycled pid.
                if os.waitid(os.P_PID, job.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
                    return False
            except ChildProcessError:
                job.status = 0
                return True
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(job.pid, signal.SIGKILL)  # anything it left behind in its group
            with contextlib.suppress(ChildProcessError):
                _, job.status = os.waitpid(job.pid, 0)
            return True
        # No waitid (macOS): reap first, then clear the group it led.
        try:
            pid, status = os.waitpid(job.pid, os.WNOHANG)
        except ChildProcessError:
            pid, status = job.pid, 0
        if pid == 0:
            return False
        job.status = status
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(job.pid, signal.SIGKILL)
        return True

    def _finish(self, job: Job) -> None:
        for fd in list(job.open_fds):  # whatever is still in the pipes (the writers are dead)
            for _ in range(64):
                if not self._read_child(job, fd, self.by_fd[fd][1]):
                    break
        for fd in list(job.open_fds):  # a grandchild may hold a pipe open: stop listening
            self._close_fd(job, fd)
        del self.jobs[job.id]
        shutil.rmtree(job.workdir, ignore_errors=True)
        _write({
            "type": "end",
            "job": job.id,
            "reason": self._reason(job),
            "output": job.output.decode("utf-8", "replace"),
            "dropped": job.dropped,
        })

    def _reason(self, job: Job) -> str | None:
        if job.reason is not None:
            return job.reason
        if job.done or job.load_error:
            return None
        if job.crash is not None:
            return f"the validation stopped: {job.crash}"
        return describe_exit(job.status or 0, job.limits, job.loaded)


def describe_exit(status: int, limits: Limits, loaded: bool) -> str:
    """Why a child ended without finishing, in one line."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else f"signal {sig}"
        if sig == signal.SIGXCPU:
            return f"used more than {limits.cpu_limit_s} s of CPU time"
        if sig == signal.SIGKILL:
            return f"the candidate process was killed (SIGKILL), most likely out of memory " \
                   f"(limit {limits.memory_mib} MiB)"
        if sig == signal.SIGSYS:
            return "the candidate process made a system call the sandbox forbids"
        return f"the candidate process crashed ({name})"
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
    when = "before the checks finished" if loaded else "while loading"
    return f"the candidate process exited with code {code} {when} (os._exit?)"


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the parent; EOF stops us
    config = json.loads(argv[0])
    root = os.getcwd()
    sys.path[:] = [p for p in sys.path if p not in ("", root)]
    try:
        from loopterm.sandbox import landlock, seccomp
        from loopterm.sandbox.policy import base_policy
        from loopterm.tasks import Task

        _preload()
        task = Task(config["task_id"], _path(config["spec_dir"]), _path(config["validation_dir"]))
        # Task code printing at import must not land on the protocol channel.
        with contextlib.redirect_stdout(sys.stderr):
            suite = task.suite
            _warm_up()
            _warm_up_reference(task)
        policy = base_policy(extra_dirs=(str(task.validation_dir),), exclude=(root,))
        abi = landlock.abi_version()
        has_seccomp = seccomp.supported()
    except Exception as exc:  # a broken task folder: one line to the parent, then exit
        _write({"type": "fatal", "error": _fatal_error(exc, config["task_id"])})
        return 1
    if threading.active_count() > 1:  # forking now could copy a lock some thread holds
        print(f"loopterm sandbox: warning: {threading.active_count() - 1} thread(s) started while warming "
              "up; forks may deadlock", file=sys.stderr)
    gc.collect()
    gc.freeze()  # keep the warm heap out of the collector so forks share its pages
    _write({
        "type": "ready",
        "pid": os.getpid(),
        "checks": [{"id": c.id, "group": c.group, "description": c.description} for c in suite.checks],
        "landlock_abi": abi,
        "seccomp": has_seccomp,
    })
    try:
        Zygote(suite, policy, abi, root).serve()
    except BrokenPipeError:
        return 0
    except OSError as exc:
        if exc.errno != errno.EPIPE:
            raise
    return 0


def _fatal_error(exc: Exception, task_id: str) -> str:
    """Why the task did not load, without the task id the parent puts in front of it."""
    from loopterm.tasks import TaskError

    if isinstance(exc, TaskError):  # its message already says what to fix, after "task <id>: "
        return str(exc).removeprefix(f"task {task_id}: ")
    return f"{type(exc).__name__}: {exc}"


def _path(text: str) -> Any:
    from pathlib import Path

    return Path(text)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
