"""``replay --plain``: a trace printed the way its live command printed it.

A race with :class:`~loopterm.plain.race.PlainPrinter` (lines per turn, then
the race results), a benchmark with ``bench --plain``'s
:class:`~loopterm.plain.bench.ProgressPrinter` (a line per finished run) and,
once the trace ends, the bench table from the same report ``bench`` and
``report`` build. The cast export prints through the same printers.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console

from loopterm.events import Event, RaceDone, RaceStarted
from loopterm.plain.bench import ProgressPrinter, print_bench_table
from loopterm.plain.console import ClosableOutput, line_width, plain_console, print_line
from loopterm.plain.race import PlainPrinter
from loopterm.stats.progress import BenchProgress


class BenchReplayPrinter(ClosableOutput):
    """A bench trace in plain text: ``bench --plain``'s progress lines, then its table at ``race_done``."""

    def __init__(
        self,
        console: Console,
        *,
        replay_speed: float | None = None,
        on_closed: Callable[[], None] | None = None,
        wrap: bool | None = None,
    ) -> None:
        self.console = console
        self.on_closed = on_closed
        self.replay_speed = replay_speed
        self.wrap = wrap
        self.events: list[Event] = []
        # The concurrency is not recorded; it only shapes the ETA, which a replay's end makes moot.
        self.progress = BenchProgress()
        self.printer = ProgressPrinter(self.progress, console, wrap=wrap)
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
            width = line_width(self.console, self.wrap)
            self.guarded(lambda: print_line(self.console, f"REPLAY ×{self.replay_speed:g}", width=width))
        elif isinstance(event, RaceDone):
            note = "bench aborted: the table covers the runs that finished" if event.aborted else None
            self.guarded(lambda: self._table(note))

    def _table(self, note: str | None) -> None:
        self.console.print()
        print_bench_table(self.console, [self.events], note=note, wrap=self.wrap)


def plain_printer(
    started: RaceStarted,
    console: Console | None = None,
    *,
    replay_speed: float | None = None,
    on_closed: Callable[[], None] | None = None,
    wrap: bool | None = None,
) -> PlainPrinter | BenchReplayPrinter:
    """The printer the live command used for this trace's kind."""
    if started.is_bench:
        return BenchReplayPrinter(console or plain_console(), replay_speed=replay_speed, on_closed=on_closed, wrap=wrap)
    return PlainPrinter(console, replay_speed=replay_speed, on_closed=on_closed, wrap=wrap)
