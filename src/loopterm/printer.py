"""The plain printer: one line per turn and a results table, no full-screen UI.

Used with ``--plain`` and whenever stdout is not a terminal (pipes, CI, logs).
Every line goes through :func:`loopterm.sanitize.visible`: lane names, ids and
ERROR reasons come from lanes files, traces and providers, and an escape
sequence in them must not reach the terminal.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import IO, Any

from rich.console import Console

from loopterm.charset import AsciiTable, wants_ascii
from loopterm.events import Event, LaneDone, RaceDone, RaceStarted, TurnDone
from loopterm.naming import display_name, plural
from loopterm.sanitize import visible
from loopterm.stats.runs import summarize
from loopterm.stats.table import ordinal, outcome_text, race_table


class OutputClosed(BrokenPipeError):
    """Our output went away: a closed pipe (``loopterm race --plain | head``) or a hung-up terminal."""


_ASCII_TABLE = AsciiTable()


class _PlainConsole(Console):
    def _render_buffer(self, buffer: Any) -> str:
        text = super()._render_buffer(buffer)
        if not text.isascii() and wants_ascii():  # LANG=C, TERM=linux, LOOPTERM_ASCII=1: as the viewer
            text = text.translate(_ASCII_TABLE)
        if self.is_terminal:
            return text
        # Off a terminal (`| cat`, a file, a log) rich pads every table line to the full width
        # with spaces; nobody reading a pipe wants them, and diffs and greps trip on them.
        return "\n".join(line.rstrip(" ") for line in text.split("\n"))

    def on_broken_pipe(self) -> None:
        # rich would raise SystemExit from inside whichever lane printed; raise something
        # a printer can catch, and send later writes (and the final flush) to /dev/null.
        with_devnull(self.file)
        raise OutputClosed


def with_devnull(stream: object) -> None:
    """Point ``stream``'s file descriptor at /dev/null, so nothing more fails on it."""
    try:
        fd = stream.fileno()  # type: ignore[attr-defined]
        null = os.open(os.devnull, os.O_WRONLY)
    except (AttributeError, OSError, ValueError):
        return
    try:
        os.dup2(null, fd)
    except OSError:
        pass
    finally:
        os.close(null)


def plain_console(file: IO[str] | None = None, **options: Any) -> Console:
    """A console for plain output (stdout unless ``file``): 120 columns off a terminal.

    rich assumes 80 columns off a terminal, which wraps tables in CI logs. A
    closed output raises :class:`OutputClosed` (a BrokenPipeError) instead of
    rich's SystemExit, so a command can stop cleanly and say so.
    """
    import sys

    stream = file if file is not None else sys.stdout
    width = None if stream.isatty() else 120
    return _PlainConsole(file=file, highlight=False, width=width, **options)


class ClosableOutput:
    """A printing sink that stops quietly, once, when its output goes away.

    ``on_closed`` is called then (the commands stop the race with it, so the
    trace still ends cleanly); every later event is only kept, not printed.
    """

    closed: bool = False
    on_closed: Callable[[], None] | None = None

    def guarded(self, show: Callable[[], None]) -> None:
        if self.closed:
            return
        try:
            show()
        except OSError:  # OutputClosed, a broken pipe, EIO from a hung-up terminal
            self.closed = True
            if self.on_closed is not None:
                self.on_closed()


def score_bar(passed: int, total: int, width: int = 10) -> str:
    """Checks passed as a bar, rounded down: full only when every check passed.

    Rounding to nearest drew 46/47 as a full bar, which reads as a pass.
    Integer arithmetic, so 7/10 is exactly 7 cells (no float 6.999...).
    """
    filled = passed * width // total if total > 0 else 0
    return "#" * filled + "." * (width - filled)


class PlainPrinter(ClosableOutput):
    """An event sink printing as it goes; keeps the events for the final table."""

    def __init__(
        self,
        console: Console | None = None,
        *,
        replay_speed: float | None = None,
        on_closed: Callable[[], None] | None = None,
        soft_wrap: bool = True,
    ) -> None:
        """``soft_wrap``: long lines stay whole (logs, pipes; a terminal wraps them itself).
        False wraps them at the console's width: a cast has a fixed width its lines must fit."""
        self.on_closed = on_closed
        self.soft_wrap = soft_wrap
        self.console = console or plain_console()
        self.events: list[Event] = []
        self.names: dict[str, str] = {}
        self.width = 12
        self.max_turns = 0
        self.replay_speed = replay_speed

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        self.guarded(lambda: self._show(event))

    def _show(self, event: Event) -> None:
        out = self.console
        if isinstance(event, RaceStarted):
            self.names = {lane.run_id: visible(display_name(lane.name, lane.simulated)) for lane in event.lanes}
            self.width = max((len(n) for n in self.names.values()), default=12)
            self.max_turns = event.max_turns
            sims = any(lane.simulated for lane in event.lanes)
            extra = ""
            if sims and event.time_scale != 1:
                extra = f" · simulated latencies ×{event.time_scale:g}"
            if self.replay_speed is not None:
                extra += f" · REPLAY ×{self.replay_speed:g}"
            header = (
                f"race {event.race_id} · task {event.task_id} · {plural(len(event.lanes), 'lane')} · "
                f"max {plural(event.max_turns, 'turn')}{extra}"
            )
            self._line(header)
        elif isinstance(event, TurnDone):
            name = self.names.get(event.lane, event.lane).ljust(self.width)
            change = " no code" if event.no_code else ""  # its score: the code still in place
            if event.fixed:
                change += f" +{len(event.fixed)} fixed"
            if event.broke:
                change += f" -{len(event.broke)} broke"
            bar = score_bar(event.passed, event.total)
            self._line(
                f"[{event.t:6.1f}s] {name} turn {event.turn:>2}/{self.max_turns} "
                f"{event.status.value:<7} {event.passed:>2}/{event.total} {bar}{change}"
            )
        elif isinstance(event, LaneDone):
            name = self.names.get(event.lane, event.lane).ljust(self.width)
            place = f" · {ordinal(event.place)}" if event.place else ""
            run = next(r for r in summarize(self.events) if r.info.run_id == event.lane)
            self._line(f"[{event.t:6.1f}s] {name} {outcome_text(run)}{place}")
        elif isinstance(event, RaceDone):
            runs = summarize(self.events)
            title = "Results" + (" (race aborted)" if event.aborted else "")
            out.print()
            out.print(race_table(runs, title))

    def _line(self, text: str) -> None:
        """One plain line: no markup, every control character shown (``^[``), never sent."""
        self.console.print(visible(text), markup=False, soft_wrap=self.soft_wrap)
