"""Where a viewer's events come from: a live race or a replay, behind one shape.

The TUI and the plain printer take an ``EventSource`` and never know which
kind it is. A replay also offers ``ReplayControls`` for its keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from loopterm.events import Event

if TYPE_CHECKING:
    from loopterm.lanes import Lane
    from loopterm.loop.race import RaceConfig, RaceResult
    from loopterm.tasks import Task

EventSink = Callable[[Event], None]


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


@dataclass
class LiveRace:
    """A race run now, written to a trace as it goes."""

    lanes: list[Lane]
    config: RaceConfig
    task: Task
    trace_root: Path
    live: bool = True
    trace_folder: Path | None = None
    result: RaceResult | None = None
    extra_sinks: list[EventSink] = field(default_factory=list)

    async def run(self, sink: EventSink) -> None:
        from loopterm.loop.race import run_race
        from loopterm.traces.writer import TraceWriter

        writer = TraceWriter(self.trace_root)
        try:
            self.result = await run_race(
                self.lanes, self.config, [writer, *self.extra_sinks, sink], task=self.task
            )
        finally:
            self.trace_folder = writer.folder
            writer.close()
