"""``race --plain``: one line per turn and per finished lane, then the results table.

Used with ``--plain`` and whenever stdout is not a terminal (pipes, CI, logs),
and by ``replay --plain`` and the cast export for a race's trace.
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console

from loopterm.events import Event, LaneDone, RaceDone, RaceStarted, TurnDone
from loopterm.plain.console import ClosableOutput, line_width, plain_console, print_line
from loopterm.plain.wrap import NBSP
from loopterm.sanitize import visible
from loopterm.stats.runs import RunSummary, summarize
from loopterm.stats.table import outcome_text, race_table
from loopterm.words import clock_stamp, display_name, ordinal, plural

STAMP_WIDTH = 6  # "[   1.7s]": a race's clock column
INDENT = len(clock_stamp(0.0, STAMP_WIDTH)) + 1  # a wrapped line goes on under the lane's name


def score_bar(passed: int, total: int, width: int = 10) -> str:
    """Checks passed as a bar, rounded down: full only when every check passed.

    Rounding to nearest drew 46/47 as a full bar, which reads as a pass.
    Integer arithmetic, so 7/10 is exactly 7 cells (no float 6.999...).
    """
    filled = passed * width // total if total > 0 else 0
    return "#" * filled + "." * (width - filled)


def race_title(events: list[Event]) -> str:
    """ "Results", or "Results (race aborted)" when the race was stopped."""
    aborted = any(isinstance(e, RaceDone) and e.aborted for e in events)
    return "Results" + (" (race aborted)" if aborted else "")


def lane_end_text(run: RunSummary) -> str:
    """How a lane ended, with its place: "PASS in 1.7 s after 2 turns · 1st"."""
    place = f" · {ordinal(run.place)}" if run.place else ""
    return outcome_text(run) + place


class PlainPrinter(ClosableOutput):
    """An event sink printing as it goes; keeps the events for the final table."""

    def __init__(
        self,
        console: Console | None = None,
        *,
        replay_speed: float | None = None,
        on_closed: Callable[[], None] | None = None,
        wrap: bool | None = None,
    ) -> None:
        """``wrap``: see :func:`loopterm.plain.console.line_width` (True for a cast's fixed width)."""
        self.on_closed = on_closed
        self.console = console or plain_console()
        self.wrap = wrap
        self.events: list[Event] = []
        self.names: dict[str, str] = {}
        self.width = 12
        self.max_turns = 0
        self.replay_speed = replay_speed

    def __call__(self, event: Event) -> None:
        self.events.append(event)
        self.guarded(lambda: self._show(event))

    def _show(self, event: Event) -> None:
        if isinstance(event, RaceStarted):
            # visible here too, so the padding counts the names as they are shown (^[ is two cells)
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
            self._line(header, indent=2)
        elif isinstance(event, TurnDone):
            change = " no code" if event.no_code else ""  # its score: the code still in place
            if event.fixed:
                change += f" +{len(event.fixed)}{NBSP}fixed"
            if event.broke:
                change += f" -{len(event.broke)}{NBSP}broke"
            bar = score_bar(event.passed, event.total)
            self._line(
                f"{self._lead(event.t, event.lane)} turn {event.turn:>2}/{self.max_turns} "
                f"{event.status.value:<7} {event.passed:>2}/{event.total} {bar}{change}"
            )
        elif isinstance(event, LaneDone):
            run = next(r for r in summarize(self.events) if r.info.run_id == event.lane)
            self._line(f"{self._lead(event.t, event.lane)} {lane_end_text(run)}")
        elif isinstance(event, RaceDone):
            self.console.print()
            self.console.print(race_table(summarize(self.events), race_title(self.events)))

    def _lead(self, t: float, lane: str) -> str:
        """The clock and the lane's name, padded so the lanes' columns line up."""
        return f"{clock_stamp(t, STAMP_WIDTH)} {self.names.get(lane, lane).ljust(self.width)}"

    def _line(self, text: str, indent: int = INDENT) -> None:
        print_line(self.console, text, width=line_width(self.console, self.wrap), indent=indent)
