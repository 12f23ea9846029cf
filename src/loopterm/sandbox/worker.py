"""The engine's handle on the check runner process: start it, talk JSON lines, notice its death.

The runner (``checkrunner.py``) decides every verdict; this side only asks and
reads one ``end`` report per validation. The runner is trusted code, but what
it reports passed through a candidate, so every message is parsed defensively:
a malformed one ends the runner (it restarts), never the engine.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from loopterm.events import CheckResult
from loopterm.sandbox.limits import Limits
from loopterm.sandbox.policy import loopterm_src_dir
from loopterm.sandbox.results import CheckInfo, JobReport
from loopterm.tasks import Task

# The only variables the worker (and so every candidate) sees, besides allow_env.
SAFE_ENV = ("PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ")
START_TIMEOUT_S = 60.0
LINE_LIMIT = 64 * 1024 * 1024


class SandboxError(RuntimeError):
    """The sandbox itself could not run (broken task folder, unsupported system)."""


def hidden_paths(task: Task) -> list[str]:
    """What a candidate must not read even inside the Python installation: loopterm and its data."""
    import loopterm
    from loopterm import paths

    hidden = [str(Path(loopterm.__file__).resolve().parent), str(task.spec_dir), str(task.validation_dir)]
    # An install (editable ones too) may hold its own copy of the package and its data
    # (site-packages/loopterm/_data/validation/...), inside the allowed Python installation.
    for entry in sys.path:
        copy = Path(entry or ".") / "loopterm"
        with contextlib.suppress(OSError):
            if copy.is_dir():
                hidden.append(str(copy.resolve()))
    with contextlib.suppress(Exception):
        data = paths.data_dir()
        hidden += [str(data / "spec"), str(data / "validation")]  # every bundled task, not only this one
    for where in (paths.cache_dir, paths.config_dir):  # traces, lanes.toml
        with contextlib.suppress(Exception):
            hidden.append(str(where()))
    return hidden


def scrubbed_env(allow_env: Sequence[str], root: str) -> dict[str, str]:
    """A fresh environment: no API keys or tokens, only what Python needs plus ``allow_env``."""
    env = {name: os.environ[name] for name in (*SAFE_ENV, *allow_env) if name in os.environ}
    env.update(
        PYTHONPATH=loopterm_src_dir(),
        PYTHONDONTWRITEBYTECODE="1",
        PYTHONIOENCODING="utf-8",
        PYTHONNOUSERSITE="1",
        HOME=root,
        TMPDIR=root,
        # glibc reserves 64 MiB of address space per malloc arena and thread;
        # with RLIMIT_AS that would eat the candidate's memory budget.
        MALLOC_ARENA_MAX="2",
    )
    return env


class Worker:
    """One running zygote; jobs are keyed by a number unique to this worker."""

    def __init__(self, proc: asyncio.subprocess.Process, root: str) -> None:
        self.proc = proc
        self.root = root
        self.checks: list[CheckInfo] = []
        self.landlock_abi = 0
        self.seccomp = False
        self.pid = proc.pid
        self.dead: str | None = None
        self._jobs: dict[int, tuple[JobReport, asyncio.Future[JobReport]]] = {}
        self._next = 0
        self._write_lock = asyncio.Lock()
        self._stderr: collections.deque[str] = collections.deque(maxlen=20)
        self._reader: asyncio.Task[None] | None = None
        self._stderr_reader: asyncio.Task[None] | None = None

    @classmethod
    async def start(cls, task: Task, allow_env: Sequence[str]) -> Worker:
        if not hasattr(os, "fork"):
            raise SandboxError("the sandbox needs a POSIX system (Linux or macOS) to fork candidates")
        root = tempfile.mkdtemp(prefix="loopterm-sandbox-")
        config = json.dumps(
            {
                "task_id": task.id,
                "spec_dir": str(task.spec_dir),
                "validation_dir": str(task.validation_dir),
                "hidden": hidden_paths(task),
            }
        )
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "loopterm.sandbox.checkrunner",
                config,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                cwd=root,
                env=scrubbed_env(allow_env, root),
                limit=LINE_LIMIT,
                start_new_session=True,  # Ctrl-C in the terminal is for us, not for it
            )
        except OSError as exc:
            shutil.rmtree(root, ignore_errors=True)
            raise SandboxError(f"could not start the sandbox's check runner: {exc}") from None
        worker = cls(proc, root)
        worker._stderr_reader = asyncio.create_task(worker._drain_stderr())
        try:
            await asyncio.wait_for(worker._handshake(task), START_TIMEOUT_S)
        except TimeoutError:
            await worker.close()
            raise SandboxError(f"the sandbox's check runner did not start within {START_TIMEOUT_S:g} s") from None
        except BaseException:
            await worker.close()
            raise
        worker._reader = asyncio.create_task(worker._read_loop())
        return worker

    async def _handshake(self, task: Task) -> None:
        assert self.proc.stdout is not None
        line = await self.proc.stdout.readline()
        try:
            message = json.loads(line) if line.strip() else {}
        except ValueError:
            raise SandboxError(f"the sandbox's check runner started with garbage: {line[:200]!r}") from None
        if message.get("type") == "ready":
            self.checks = [CheckInfo(c["id"], c["group"], c["description"]) for c in message["checks"]]
            self.landlock_abi = int(message.get("landlock_abi", 0))
            self.seccomp = bool(message.get("seccomp"))
            return
        if message.get("type") == "fatal":
            raise SandboxError(f"task {task.id}: the suite did not load: {message.get('error')}")
        await self.proc.wait()
        await asyncio.sleep(0)  # let the stderr reader take the last lines
        raise SandboxError(f"the sandbox's check runner exited before it was ready: {self._last_words()}")

    def _last_words(self) -> str:
        tail = [line for line in self._stderr if line.strip()]
        code = self.proc.returncode
        return tail[-1] if tail else f"exit code {code}"

    async def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        while line := await self.proc.stderr.readline():
            self._stderr.append(line.decode("utf-8", "replace").rstrip())

    async def _read_loop(self) -> None:
        assert self.proc.stdout is not None
        try:
            while line := await self.proc.stdout.readline():
                self._dispatch(json.loads(line))
        except Exception as exc:  # a garbled report: this runner is done, the next validation gets a new one
            reason = f"the sandbox's check runner sent a garbled message ({type(exc).__name__})"
            self._die(reason)
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            return
        await self.proc.wait()
        if self._stderr_reader is not None:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self._stderr_reader), 1.0)
        self._die(f"the sandbox's check runner died ({self._last_words()}); it restarts for the next validation")

    def _dispatch(self, message: dict[str, Any]) -> None:
        if message.get("type") != "end":
            return
        entry = self._jobs.pop(int(message["job"]), None)
        if entry is None:
            return
        report, future = entry
        report.results = {r.id: r for r in (CheckResult.model_validate(x) for x in message["results"])}
        report.loaded = bool(message["loaded"])
        report.load_error = None if message["load_error"] is None else str(message["load_error"])
        report.reason = None if message["reason"] is None else str(message["reason"])
        report.infrastructure = bool(message["infrastructure"])
        report.output = str(message["output"])
        report.dropped = int(message["dropped"])
        report.layers = [str(x) for x in message["layers"]]
        if not future.done():
            future.set_result(report)

    def _die(self, reason: str) -> None:
        if self.dead is None:
            self.dead = reason
        for report, future in self._jobs.values():
            report.infrastructure = True
            if report.reason is None:
                report.reason = reason
            if not future.done():
                future.set_result(report)
        self._jobs.clear()

    def new_job(self) -> tuple[int, asyncio.Future[JobReport]]:
        """Register a job; its future resolves when its ``end`` arrives (or the worker dies)."""
        self._next += 1
        job = self._next
        future: asyncio.Future[JobReport] = asyncio.get_running_loop().create_future()
        if self.dead is not None:
            future.set_result(JobReport(reason=self.dead, infrastructure=True))
        else:
            self._jobs[job] = (JobReport(), future)
        return job, future

    async def submit(self, job: int, source: str, limits: Limits) -> None:
        await self._send({"op": "validate", "job": job, "source": source, "limits": limits.model_dump()})

    async def cancel(self, job: int) -> None:
        """Kill the job's child (if it got that far) and forget the job."""
        if self._jobs.pop(job, None) is not None and self.dead is None:
            await self._send({"op": "cancel", "job": job})

    async def _send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        data = (json.dumps(message) + "\n").encode()
        async with self._write_lock:
            if self.dead is not None:
                self._die(self.dead)
                return
            try:
                self.proc.stdin.write(data)
                await self.proc.stdin.drain()
            except (ConnectionError, RuntimeError) as exc:
                self._die(
                    f"the sandbox's check runner is gone ({type(exc).__name__}); it restarts for the next validation"
                )

    def kill(self, reason: str) -> None:
        """Give up on an unresponsive worker: its jobs end with ``reason``."""
        self._die(reason)
        with contextlib.suppress(ProcessLookupError):
            self.proc.kill()

    async def close(self) -> None:
        if self.proc.returncode is None:
            if self.proc.stdin is not None:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    self.proc.stdin.close()  # EOF: the worker kills its children and exits
            try:
                await asyncio.wait_for(self.proc.wait(), 3.0)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                await self.proc.wait()
        for task in (self._reader, self._stderr_reader):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._die("the sandbox was closed")
        shutil.rmtree(self.root, ignore_errors=True)
