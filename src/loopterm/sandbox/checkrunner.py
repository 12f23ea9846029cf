"""The check runner: the process that decides verdicts, out of every candidate's reach.

Run as ``python -m loopterm.sandbox.checkrunner '<config json>'`` by the
engine's :class:`~loopterm.sandbox.worker.Worker`, with a scrubbed environment.
It loads the task's suite (never the reference), starts the warm process
(``zygote.py``, libraries only) and, for each validation, has it fork a
locked-down candidate process, sends that process the candidate's file over a
socket of its own, and runs the checks from here: every request goes to the
candidate as a frame and comes back as a bounded answer (``remote.py``). A
candidate can only answer requests; it cannot write a result, patch a check or
touch this process, and whatever bytes it sends end as its own failure.

engine -> runner (stdin, JSON lines)::

    {"op": "validate", "job": 7, "source": "...", "limits": {...Limits}}
    {"op": "cancel", "job": 7}

runner -> engine (stdout, JSON lines)::

    {"type": "ready", "pid": 1, "checks": [{"id", "group", "description"}], "landlock_abi": 7, "seccomp": true}
    {"type": "fatal", "error": "..."}            # the suite did not load; the runner exits
    {"type": "end", "job": 7, "results": [...CheckResult], "loaded": true, "load_error": null,
     "reason": null, "infrastructure": false, "output": "...", "dropped": 0, "layers": [...]}

Per-check timeouts are kept here even when a handler busy-loops: a check that
gets no answer pings the candidate; if its event loop does not answer either,
a handler is blocking the whole server, so the runner asks it (SIGUSR1) which
line it is on, stops it and reports that line.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
from dataclasses import dataclass, field
from typing import Any

from loopterm.events import CheckResult
from loopterm.sandbox.direct import CandidateClient
from loopterm.sandbox.limits import Limits
from loopterm.sandbox.remote import Candidate, CandidateGone, LoadFailed
from loopterm.sandbox.runner import BASE_URL, hang_message, run_checks
from loopterm.sandbox.warm import WarmProcess, WarmProcessGone
from loopterm.suite import Check, CheckContext, Suite

ALIVE_S = 1.0  # how long a timed-out check's ping may take before the server counts as blocked
WHERE_S = 0.5  # how long a stopped candidate gets to say which line it was on
EXIT_S = 3.0  # how long the warm process may take to report a killed candidate's exit
THREADS_POLL_S = 0.05
OOM_LOAD = "ran out of memory while being imported"  # loader.load_app's words


def describe_exit(status: int, limits: Limits, loaded: bool) -> str:
    """Why a candidate process ended without being asked to, in one line."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else f"signal {sig}"
        if sig == signal.SIGXCPU:
            return f"used more than {limits.cpu_limit_s} s of CPU time"
        if sig == signal.SIGKILL:
            return (
                f"the candidate process was killed (SIGKILL), most likely out of memory (limit {limits.memory_mib} MiB)"
            )
        if sig == signal.SIGSYS:
            return "the candidate process made a system call the sandbox forbids"
        return f"the candidate process crashed ({name})"
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
    when = "before the checks finished" if loaded else "while loading"
    return f"the candidate process exited with code {code} {when} (os._exit?)"


@dataclass
class Report:
    """What one validation produced; sent to the engine as one ``end`` message."""

    results: dict[str, CheckResult] = field(default_factory=dict)
    loaded: bool = False
    load_error: str | None = None
    reason: str | None = None
    infrastructure: bool = False
    output: str = ""
    dropped: int = 0
    layers: list[str] = field(default_factory=list)

    def message(self, job: int) -> dict[str, Any]:
        return {
            "type": "end",
            "job": job,
            "results": [r.model_dump() for r in self.results.values()],
            "loaded": self.loaded,
            "load_error": self.load_error,
            "reason": self.reason,
            "infrastructure": self.infrastructure,
            "output": self.output,
            "dropped": self.dropped,
            "layers": self.layers,
        }


class Validation:
    """One candidate against the suite, from spawn to report."""

    def __init__(self, runner: Runner, job: int, source: str, limits: Limits) -> None:
        self.runner = runner
        self.job = job
        self.source = source
        self.limits = limits
        self.report = Report()
        self.stopped: str | None = None  # why the runner stopped the candidate, when it did
        self.blamed: str | None = None  # the check that found the server blocked
        self.candidate: Candidate | None = None
        self.done = asyncio.Event()  # set once the candidate is stopped or gone

    async def run(self) -> Report:
        warm = await self.runner.warm()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        output_r, output_w = os.pipe()
        where_r, where_w = os.pipe()
        try:
            pid = await warm.spawn(self.job, self.limits, [theirs.fileno(), output_w, where_w])
        except WarmProcessGone as exc:
            for fd in (output_r, where_r):
                os.close(fd)
            ours.close()
            self.report.infrastructure = True
            self.report.reason = f"{exc}; it restarts for the next validation"
            return self.report
        finally:
            theirs.close()
            os.close(output_w)
            os.close(where_w)
        candidate = self.candidate = Candidate(ours, output_r, where_r, self.limits.output_kib * 1024)
        watchdog = asyncio.create_task(self._count_threads(pid))
        try:
            await candidate.open(self.source.encode("utf-8", "surrogateescape"))
            await self._load_and_check(candidate)
        except CandidateGone:
            pass
        finally:
            watchdog.cancel()
            await self._finish(warm, candidate)
        return self.report

    async def _count_threads(self, pid: int) -> None:
        """Stop a candidate that starts more threads than ``Limits.threads``.

        RLIMIT_NPROC does not bind root (nor, for its count, other users'
        processes apart), and thousands of threads would use up the machine's
        pids, so the next fork of any lane would fail. Polled, so a candidate
        may overshoot by what it starts in one interval.
        """
        limit = self.limits.threads
        path = f"/proc/{pid}/status"
        while True:
            await asyncio.sleep(THREADS_POLL_S)
            try:
                with open(path) as status:
                    count = next((int(line.split()[1]) for line in status if line.startswith("Threads:")), 0)
            except (OSError, ValueError):
                return
            if count > limit:
                await self.stop(f"started {count} threads (limit {limit})")
                return

    async def _load_and_check(self, candidate: Candidate) -> None:
        limits = self.limits
        try:
            await asyncio.wait_for(self._load(candidate), limits.load_timeout_s)
        except TimeoutError:
            await self.stop(f"timed out after {limits.load_timeout_s:g} s while loading (infinite loop at import?)")
            return
        except LoadFailed as exc:
            error = str(exc)  # cut to remote.LOAD_ERROR_CHARS where it was read
            if error.startswith(OOM_LOAD):
                error = f"{error} (limit {limits.memory_mib} MiB)"
            self.report.load_error = error
            return
        self.report.loaded = True
        try:
            await asyncio.wait_for(self._checks(candidate), limits.run_timeout_s)
        except TimeoutError:
            await self.stop(
                f"timed out after {limits.run_timeout_s:g} s while running the checks (a handler "
                "that never returns? a busy loop in an async handler blocks every request)"
            )

    async def _load(self, candidate: Candidate) -> None:
        await candidate.started.wait()
        self.report.layers = list(candidate.layers)
        await candidate.loaded(0)

    async def _checks(self, candidate: Candidate) -> None:
        suite = self.runner.suite
        clients = [CandidateClient(candidate.exchange_for(0), BASE_URL)]

        async def fresh() -> CandidateClient:
            inst = len(clients)
            try:
                await candidate.loaded(inst)
            except LoadFailed as exc:  # it loaded once, so this is flaky import code
                raise AssertionError(f"a second instance failed to load: {exc}") from None
            client = CandidateClient(candidate.exchange_for(inst), BASE_URL)
            clients.append(client)
            return client

        def keep(result: CheckResult) -> bool:
            # A check cut short by the candidate's end says nothing: it is reported as not run.
            return result.passed or candidate.gone is None or result.id == self.blamed

        def record(result: CheckResult) -> None:
            self.report.results.setdefault(result.id, result)

        try:
            await run_checks(
                suite,
                CheckContext(clients[0], fresh),
                concurrency=self.limits.concurrency,
                check_timeout=self.limits.check_timeout_s,
                on_result=record,
                on_hang=self._on_hang,
                keep=keep,
            )
        finally:
            for client in clients:
                with contextlib.suppress(Exception):
                    await client.aclose()

    async def _on_hang(self, check: Check, pending: list[str]) -> str:
        candidate = self.candidate
        timeout = self.limits.check_timeout_s
        if candidate is None or candidate.gone is not None:
            return hang_message(pending, timeout)
        if await candidate.alive(min(ALIVE_S, timeout)):
            return hang_message(pending, timeout)  # this handler waits forever; the others go on
        if candidate.gone is not None:
            return hang_message(pending, timeout)  # it ended meanwhile: this check is reported not run
        if self.blamed is not None:
            # Another check found it first; this one was queued behind it, and is reported
            # not run once the candidate is stopped.
            await self.done.wait()
            return hang_message(pending, timeout)
        self.blamed = check.id
        sent = f"sent {pending[0]}; " if pending else ""
        await self.stop(
            f"a request blocked the candidate's whole server for {timeout:g} s (a busy loop or a "
            "blocking call in an async handler stops every request); the candidate was stopped"
        )
        return sent + (self.stopped or "")

    async def stop(self, reason: str) -> None:
        """Stop the candidate for ``reason``, naming the line it was running when it says."""
        candidate = self.candidate
        warm = self.runner.warm_process
        if candidate is not None and warm is not None and candidate.gone is None:
            warm.signal(self.job, signal.SIGUSR1)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + WHERE_S
            while not candidate.where and loop.time() < deadline and candidate.gone is None:
                await asyncio.sleep(0.01)
            if candidate.where:
                reason = f"{reason}; it was running {candidate.where}"
        self.stopped = reason
        if warm is not None:
            warm.signal(self.job, signal.SIGKILL)
        if candidate is not None:
            candidate.fail(reason)
        self.done.set()

    async def _finish(self, warm: WarmProcess, candidate: Candidate) -> None:
        died_by_itself = candidate.gone is not None and self.stopped is None
        warm.signal(self.job, signal.SIGKILL)
        status: int | None = None
        if died_by_itself or warm.dead:
            # Its exit status says why it ended (and whether the warm process died with it).
            try:
                status = await warm.exit_status(self.job, EXIT_S)
            except WarmProcessGone:
                self.report.infrastructure = True
                self.report.reason = "the sandbox's warm process died; it restarts for the next validation"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(candidate.output_closed.wait(), 1.0)
        else:
            # Finished or stopped by us: what it wrote before is in the pipe already, and the
            # report need not wait for the kill to land (the warm process reaps it).
            candidate.drain_now()
            self.runner.forget_exit(self.job)
        await candidate.close()
        self.report.output = candidate.output_text()
        self.report.dropped = candidate.dropped
        if self.report.reason is not None:
            return
        if self.stopped is not None:
            self.report.reason = self.stopped
        elif died_by_itself:
            gone = candidate.gone or ""
            if gone.startswith("the candidate broke"):
                self.report.reason = gone
            elif status is not None:
                self.report.reason = describe_exit(status, self.limits, self.report.loaded)
            else:
                self.report.reason = gone


class Runner:
    """Holds the suite and the warm process; runs validations concurrently."""

    def __init__(self, suite: Suite, root: str, hidden: list[str], write: Any) -> None:
        self.suite = suite
        self.root = root
        self.hidden = hidden
        self.write = write
        self.warm_process: WarmProcess | None = None
        self._warm_lock = asyncio.Lock()
        self.jobs: dict[int, asyncio.Task[None]] = {}
        self._background: set[asyncio.Task[None]] = set()

    async def warm(self) -> WarmProcess:
        async with self._warm_lock:
            if self.warm_process is None or self.warm_process.dead:
                if self.warm_process is not None:
                    with contextlib.suppress(Exception):
                        await self.warm_process.close()
                self.warm_process = await WarmProcess.start(self.root, self.hidden)
            return self.warm_process

    def forget_exit(self, job: int) -> None:
        """Let the warm process's ``exit`` for ``job`` arrive in the background and be dropped."""
        warm = self.warm_process
        if warm is None:
            return

        async def drop() -> None:
            with contextlib.suppress(WarmProcessGone):
                await warm.exit_status(job, EXIT_S)

        task = asyncio.create_task(drop())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def validate(self, job: int, source: str, limits: Limits) -> None:
        async def go() -> None:
            try:
                report = await Validation(self, job, source, limits).run()
            except asyncio.CancelledError:
                return
            except Exception as exc:  # never the runner's death: this validation ends as the sandbox's failure
                report = Report(
                    infrastructure=True, reason=f"the check runner failed: {type(exc).__name__}: {str(exc)[:200]}"
                )
            self.jobs.pop(job, None)
            self.write(report.message(job))

        self.jobs[job] = asyncio.create_task(go())

    def cancel(self, job: int) -> None:
        task = self.jobs.pop(job, None)
        if task is not None:
            task.cancel()

    async def close(self) -> None:
        for task in list(self.jobs.values()):
            task.cancel()
        for task in list(self.jobs.values()):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.warm_process is not None:
            await self.warm_process.close()


async def serve(config: dict[str, Any], proto: int) -> int:
    from pathlib import Path

    from loopterm.tasks import Task

    def write(message: dict[str, Any]) -> None:
        data = (json.dumps(message, separators=(",", ":")) + "\n").encode()
        while data:
            data = data[os.write(proto, data) :]

    try:
        task = Task(config["task_id"], Path(config["spec_dir"]), Path(config["validation_dir"]))
        suite = task.suite
    except Exception as exc:  # a broken task folder: one line to the engine, then exit
        write({"type": "fatal", "error": _fatal_error(exc, config["task_id"])})
        return 1
    runner = Runner(suite, os.getcwd(), list(config.get("hidden", [])), write)
    try:
        warm = await runner.warm()
    except WarmProcessGone as exc:
        write({"type": "fatal", "error": str(exc)})
        return 1
    write(
        {
            "type": "ready",
            "pid": os.getpid(),
            "checks": [{"id": c.id, "group": c.group, "description": c.description} for c in suite.checks],
            "landlock_abi": int(warm.ready.get("landlock_abi", 0)),
            "seccomp": bool(warm.ready.get("seccomp")),
        }
    )
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=64 * 1024 * 1024)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        while line := await reader.readline():
            if not line.strip():
                continue
            message = json.loads(line)
            if message.get("op") == "validate":
                runner.validate(
                    int(message["job"]), str(message["source"]), Limits.model_validate(message.get("limits") or {})
                )
            elif message.get("op") == "cancel":
                runner.cancel(int(message["job"]))
    finally:
        await runner.close()
    return 0


def _fatal_error(exc: Exception, task_id: str) -> str:
    """Why the task did not load, without the task id the engine puts in front of it."""
    from loopterm.tasks import TaskError

    if isinstance(exc, TaskError):  # its message already says what to fix, after "task <id>: "
        return str(exc).removeprefix(f"task {task_id}: ")
    return f"{type(exc).__name__}: {exc}"


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the engine; EOF on stdin stops us
    config = json.loads(argv[0])
    root = os.getcwd()
    sys.path[:] = [p for p in sys.path if p not in ("", root)]
    # The protocol gets its own fd; anything the task's code prints goes to stderr.
    proto = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return asyncio.run(serve(config, proto))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
