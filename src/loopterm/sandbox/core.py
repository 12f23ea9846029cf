"""Sandbox: validate untrusted candidates for one task, concurrently, on a warm worker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from types import TracebackType

from loopterm.bounds import clamp_result
from loopterm.events import ValidationResult
from loopterm.sandbox.limits import Limits
from loopterm.sandbox.results import CheckInfo, JobReport, assemble
from loopterm.sandbox.worker import SandboxError, Worker
from loopterm.tasks import Task

# How long past its own deadlines the worker may take to report before we
# declare it hung and replace it.
GRACE_S = 10.0
# Tries of one validation when the sandbox (not the candidate) fails under it.
ATTEMPTS = 2


class Sandbox:
    """Owns a warm worker process for ``task``; ``validate`` may be called concurrently.

    Use as ``async with Sandbox(task) as sandbox: result = await sandbox.validate(src)``.
    A worker that dies is replaced on the next call; the validation it was
    running ends with a clear error, never a hang.
    """

    def __init__(self, task: Task, *, limits: Limits | None = None, allow_env: Sequence[str] = ()) -> None:
        self.task = task
        self.limits = limits or Limits()
        self.allow_env = tuple(allow_env)
        self.layers: list[str] = []  # protection layers the last child applied
        self._worker: Worker | None = None
        self._start_lock = asyncio.Lock()
        self._closed = False

    async def __aenter__(self) -> Sandbox:
        await self._ready()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def checks(self) -> list[CheckInfo]:
        return list(self._worker.checks) if self._worker else []

    @property
    def worker_pid(self) -> int | None:
        return self._worker.pid if self._worker else None

    async def _ready(self) -> Worker:
        if self._closed:
            raise SandboxError("the sandbox is closed")
        async with self._start_lock:
            worker = self._worker
            if worker is None or worker.dead is not None:
                if worker is not None:
                    await worker.close()
                self._worker = None
                worker = self._worker = await Worker.start(self.task, self.allow_env)
            return worker

    async def validate(self, source: str, *, limits: Limits | None = None) -> ValidationResult:
        """Run the task's suite against ``source``, served by a fresh, locked-down candidate process.

        When the sandbox itself fails under a validation (its check runner or
        warm process died, whoever caused it), the validation runs once more
        on a new one, so one lane's trouble does not fail another lane's turn.
        """
        limits = limits or self.limits
        started = time.perf_counter()
        for attempt in range(1, ATTEMPTS + 1):
            worker = await self._ready()
            report = await self._once(worker, source, limits)
            if not report.infrastructure or attempt == ATTEMPTS or self._closed:
                break
        if report.layers:
            self.layers = report.layers
        # Bounded here too, for every caller (validate --json, rescore, the loop).
        return clamp_result(assemble(self.task.id, worker.checks, report, (time.perf_counter() - started) * 1000))

    async def _once(self, worker: Worker, source: str, limits: Limits) -> JobReport:
        job, future = worker.new_job()
        try:
            await worker.submit(job, source, limits)
            return await asyncio.wait_for(asyncio.shield(future), limits.wall_s + GRACE_S)
        except TimeoutError:
            worker.kill(
                f"the sandbox's check runner stopped answering for {limits.wall_s + GRACE_S:g} s; "
                "it restarts for the next validation"
            )
            report = future.result() if future.done() else JobReport(reason="the sandbox stopped answering")
            report.infrastructure = True
            return report
        except asyncio.CancelledError:
            await asyncio.shield(worker.cancel(job))
            raise

    async def close(self) -> None:
        self._closed = True
        async with self._start_lock:
            if self._worker is not None:
                await self._worker.close()
                self._worker = None


def validate_source(
    task: Task, source: str, *, limits: Limits | None = None, allow_env: Sequence[str] = ()
) -> ValidationResult:
    """One validation from synchronous code (starts and stops a worker; not for a running loop)."""

    async def once() -> ValidationResult:
        async with Sandbox(task, limits=limits, allow_env=allow_env) as sandbox:
            return await sandbox.validate(source)

    return asyncio.run(once())
