"""Where a viewer's events come from: a live race or a replay, behind one shape.

The TUI and the plain printer take an ``EventSource`` and never know which
kind it is. A replay also offers ``ReplayControls`` for its keys.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from loopterm.events import EventSink

if TYPE_CHECKING:
    from loopterm.lanes import Lane
    from loopterm.loop.race import RaceConfig
    from loopterm.tasks import Task


class EventSource(Protocol):
    live: bool

    async def run(self, sink: EventSink) -> None:
        """Push every event into ``sink``; return when the race (or replay) is over."""
        ...


@runtime_checkable
class ReplayControls(Protocol):
    speed: float  # 0.5 to 50
    paused: bool

    def toggle_pause(self) -> None: ...
    def faster(self) -> None: ...
    def slower(self) -> None: ...
    def jump_to_end(self) -> None: ...
    def restart(self) -> None: ...


class EngineFailed(RuntimeError):
    """The engine process could not run the race; the message is its one line."""


@dataclass
class EngineSource:
    """A race (or bench) run now by an engine in its own process (``loopterm.engine``).

    The viewer only reads the engine's events, so repaints never delay a
    stream read, a timestamp or a validation. Cancelling ``run`` (the user
    quits) asks the engine to stop (SIGINT) and keeps reading until it has
    closed every lane and the trace, exactly as an in-process race would.
    """

    lanes: list[Lane]
    config: RaceConfig
    task: Task
    trace_root: Path
    race_id: str | None = None
    what: str = "race"
    live: bool = True
    trace_folder: Path | None = None
    failure: str | None = None  # the trace could not be written: one line, as the plain commands say it
    extra_sinks: list[EventSink] = field(default_factory=list)  # more consumers in this process (tests)
    # Awaited once ``RaceStarted`` is in the sink and before the race clock starts:
    # the viewer lays out and draws its panes here (see ``loopterm.engine``).
    before_clock: Callable[[], Awaitable[None]] | None = None

    async def run(self, sink: EventSink) -> None:
        import asyncio
        import json
        import signal
        import sys

        from loopterm.engine import END, spec_for
        from loopterm.events import load_event

        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "loopterm.engine",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            limit=64 * 1024 * 1024,
        )
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        stdin, stdout = proc.stdin, proc.stdout  # named, so read_all below sees them as not None
        spec = spec_for(
            self.lanes, self.config, self.trace_root, self.race_id, self.what, handshake=self.before_clock is not None
        )
        stdin.write((json.dumps(spec) + "\n").encode())  # stdin stays open: its end means we are gone
        errors = asyncio.create_task(proc.stderr.read())
        cancelled = False

        async def read_all() -> None:
            while line := await stdout.readline():
                if line.startswith(b'{"' + END.encode() + b'"'):
                    end = json.loads(line)
                    if end[END] == "ready":
                        if self.before_clock is not None:
                            # A viewer that failed to draw first still watches: the race goes on.
                            with contextlib.suppress(Exception):
                                await self.before_clock()
                        stdin.write(b"go\n")
                        continue
                    self.trace_folder = Path(end["trace"]) if end.get("trace") else None
                    self.failure = end.get("failure")
                    continue
                event = load_event(line)
                for extra in self.extra_sinks:
                    extra(event)
                sink(event)

        try:
            await read_all()
        except asyncio.CancelledError:
            cancelled = True
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGINT)
            await asyncio.shield(read_all())  # the lanes' ABORTED ends and the race's end
        finally:
            if proc.returncode is None:
                try:
                    await asyncio.shield(asyncio.wait_for(proc.wait(), 10))
                except TimeoutError:
                    proc.kill()
                    await proc.wait()
        stderr = (await errors).decode("utf-8", "replace").strip()
        if cancelled:
            raise asyncio.CancelledError
        if self.failure is not None:
            raise EngineFailed(self.failure.removeprefix("loopterm: "))
        if proc.returncode not in (0, None):
            last = stderr.splitlines()[-1] if stderr else f"exit code {proc.returncode}"
            raise EngineFailed(f"the race engine stopped: {last}")
