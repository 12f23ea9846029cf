"""The plain replay's printer: the race printer for a race, the bench progress printer for a bench.

``loopterm replay --plain`` and the cast export both print a trace the way
its live command printed it: a race with ``PlainPrinter`` (lines per turn,
then the race results), a benchmark with the bench command's own
``ProgressPrinter`` (a line per finished run) and, once the trace ends, the
bench table from the same report ``bench`` and ``report`` build. Nothing is
copied from the bench command; its printer is reused as it is.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console

from loopterm.events import Event, RaceDone, RaceStarted
from loopterm.printer import ClosableOutput, PlainPrinter


def is_bench(started: RaceStarted) -> bool:
    return started.kind == "bench" or started.bench_id is not None


class BenchReplayPrinter(ClosableOutput):
    """A bench trace in plain text: ``bench --plain``'s progress lines, then its table at ``race_done``."""

    def __init__(
        self,
        console: Console,
        *,
        replay_speed: float | None = None,
        on_closed: Callable[[], None] | None = None,
        soft_wrap: bool = True,
    ) -> None:
        from loopterm.commands.bench import ProgressPrinter
        from loopterm.stats.progress import BenchProgress

        self.console = console
        self.on_closed = on_closed
        self.replay_speed = replay_speed
        self.events: list[Event] = []
        # The concurrency is not recorded; it only shapes the ETA, which a replay's end makes moot.
        self.progress = BenchProgress()
        self.printer = ProgressPrinter(self.progress, console, soft_wrap=soft_wrap)
        self.printer.on_closed = self._printer_closed

    def _printer_closed(self) -> None:
        self.closed = True
        if self.on_closed is not None:
            self.on_closed()

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        self.progress(event)
        self.printer(event)
        if isinstance(event, RaceStarted) and self.replay_speed is not None:
            self.guarded(lambda: self.console.print(f"REPLAY ×{self.replay_speed:g}", markup=False,
                                                    highlight=False))
        elif isinstance(event, RaceDone):
            self.guarded(self._table)

    def _table(self) -> None:
        from loopterm.stats.aggregate import build_report
        from loopterm.stats.export import to_rich

        report = build_report([self.events])
        self.console.print()
        self.console.print(to_rich(report))
        if self.events and isinstance(self.events[-1], RaceDone) and self.events[-1].aborted:
            self.console.print("bench aborted: the table covers the runs that finished", markup=False,
                               highlight=False)


def plain_printer(
    started: RaceStarted,
    console: Console | None = None,
    *,
    replay_speed: float | None = None,
    on_closed: Callable[[], None] | None = None,
    soft_wrap: bool = True,
) -> PlainPrinter | BenchReplayPrinter:
    """The printer the live command used for this trace's kind."""
    if is_bench(started):
        from loopterm.printer import plain_console

        return BenchReplayPrinter(console or plain_console(), replay_speed=replay_speed, on_closed=on_closed,
                                  soft_wrap=soft_wrap)
    return PlainPrinter(console, replay_speed=replay_speed, on_closed=on_closed, soft_wrap=soft_wrap)
