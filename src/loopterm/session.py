"""One race session: a race, bench or rescore wired once to its trace and its consumers.

Every way loopterm runs lanes in this process goes through here: the plain
race and bench, the engine process behind the viewer, and rescore (which
replays recorded answers rather than asking models). The session owns:

- the trace, written through the guard (``traces.sink.TraceSink``): a write
  that fails (a full disk) stops the session, and ``failure()`` is the one
  line every command prints for it;
- the events, kept for the summary the command prints at the end;
- the stop: ``stop()`` ends a running session as Ctrl-C does (every lane
  closed in the trace, which is marked aborted); printers call it when their
  output is closed, signal handlers when the terminal goes away.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from loopterm.traces.sink import TraceSink
from loopterm.traces.writer import TraceWriter

if TYPE_CHECKING:
    from loopterm.events import Event, EventSink
    from loopterm.lanes import Lane
    from loopterm.loop.race import RaceConfig, RaceResult
    from loopterm.tasks import Task


class RaceSession:
    def __init__(self, trace_root: Path, *, what: str = "race") -> None:
        self.what = what  # "race", "bench" or "rescore": the word in messages
        self.events: list[Event] = []
        self.interrupted = False  # stopped (Ctrl-C, a signal, a closed output, a failed write)
        self.trace = TraceSink(TraceWriter(trace_root), self.stop, what)
        self._task: asyncio.Task[object] | None = None
        self._stopping = False

    @property
    def folder(self) -> Path | None:
        """The trace's folder; None when the session stopped before it began."""
        return self.trace.writer.folder

    def failure(self) -> str | None:
        """One line for stderr when the trace could not be written, else None."""
        return self.trace.failure()

    def stop(self) -> None:
        """End the session as Ctrl-C would. Once: a second ask (SIGTERM after a closed output) is the same stop."""
        if self._stopping:
            return
        self._stopping = True
        if self._task is not None:
            self._task.cancel()

    async def race(
        self,
        lanes: Sequence[Lane],
        config: RaceConfig,
        task: Task,
        consumers: Iterable[EventSink] = (),
        *,
        race_id: str | None = None,
        before_clock: Callable[[], Awaitable[None]] | None = None,
    ) -> RaceResult | None:
        """Run the lanes; their events go to the trace, ``events`` and each consumer, in that order.

        Returns how each lane ended, or None when the session was stopped
        (``interrupted`` says so; the trace is closed either way).
        """
        from loopterm.loop.race import run_race

        self._task = asyncio.current_task()
        try:
            if self._stopping:  # asked to stop before it began
                self.interrupted = True
                return None
            return await run_race(
                lanes,
                config,
                [self.trace, self.events.append, *consumers],
                task=task,
                race_id=race_id,
                before_clock=before_clock,
            )
        except asyncio.CancelledError:
            self.interrupted = True
            if self._task is not None:
                self._task.uncancel()
            return None
        finally:
            self._task = None
            self.trace.close()

    def record(self, events: Iterable[Event]) -> None:
        """Write events made elsewhere (a rescore's) as one trace.

        A failed write ends it there, closed as aborted as a stopped race is
        (that last, small record is still tried), so what was written reads back.
        """
        from loopterm.events import RaceDone

        try:
            for event in events:
                self.trace(event)
                self.events.append(event)
                if self.trace.error is not None:
                    self.interrupted = True
                    self.trace(RaceDone(t=event.t, aborted=True))
                    break
        finally:
            self.trace.close()
