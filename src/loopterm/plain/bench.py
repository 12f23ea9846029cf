"""``bench --plain``: a line per finished run with the lane's figures and an ETA, then the bench table.

Used by ``loopterm bench`` off a terminal, and by ``replay --plain`` and the
cast export for a bench's trace. The figures come from
:class:`loopterm.stats.progress.BenchProgress`, the table from the same report
``bench`` and ``report`` build (:mod:`loopterm.stats.aggregate`).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from rich.console import Console

from loopterm.events import Event, LaneDone, RaceStarted
from loopterm.plain.console import ClosableOutput, line_width, print_line
from loopterm.stats.aggregate import Report, build_report
from loopterm.stats.export import to_rich
from loopterm.stats.progress import BenchProgress, LaneProgress, eta_text, state_text
from loopterm.words import clock_stamp, fmt_seconds, outcome_text, plural

# With nothing finishing for this long, the plain printer says what is still going.
HEARTBEAT_S = 15.0
STAMP_WIDTH = 7  # "[    1.7s]": a bench runs long, so its clock column has room for hours
INDENT = len(clock_stamp(0.0, STAMP_WIDTH)) + 1  # a wrapped line goes on under the lane's name


def print_bench_table(
    console: Console, races: Sequence[Sequence[Event]], *, note: str | None = None, wrap: bool | None = None
) -> Report:
    """The bench table of these races' events (what ``bench`` prints at its end), then ``note``
    (wrapped as ``wrap`` says: see :func:`loopterm.plain.console.line_width`). Returns the report."""
    report = build_report(races)
    console.print(to_rich(report))
    if note:
        print_line(console, note, width=line_width(console, wrap))
    return report


class ProgressPrinter(ClosableOutput):
    """Plain progress: one line per finished run, and a status line when all is quiet."""

    def __init__(self, progress: BenchProgress, console: Console, *, wrap: bool | None = None) -> None:
        """``wrap``: see :func:`loopterm.plain.console.line_width` (True for a cast's fixed width)."""
        self.progress = progress
        self.console = console
        self.wrap = wrap
        self.width = 12
        self.last_line_at: float | None = None
        self.race_id = ""
        self.t0: float | None = None  # time.monotonic() at race time 0 (the race clock's source)

    def __call__(self, event: Event) -> None:
        if isinstance(event, RaceStarted):
            self.t0 = time.monotonic() - event.t
            self.race_id = event.race_id
            self.width = max((len(lane.label) for lane in self.progress.lanes.values()), default=12)
            lanes = len(self.progress.lanes)  # distinct lanes (name, provider, model)
            per_lane = len(event.lanes) // max(1, lanes)
            scale = ""
            if any(lane.simulated for lane in event.lanes) and event.time_scale != 1:
                scale = f" · simulated latencies ×{event.time_scale:g}"
            self._say(
                f"bench {event.race_id} · task {event.task_id} · {plural(lanes, 'lane')} × "
                f"{plural(per_lane, 'run')} · max {plural(event.max_turns, 'turn')}{scale}",
                indent=2,
            )
        elif isinstance(event, LaneDone) and event.lane in self.progress.lane_of:
            self._say(self.run_line(event))

    def run_line(self, event: LaneDone) -> str:
        lane = self.progress.lane_of[event.lane]
        index = lane.run_ids.index(event.lane) + 1
        what = outcome_text(
            event.outcome, self.progress.turns_of(event.lane), event.time_to_pass_s, event.reason, lane.name
        )
        return (
            f"{clock_stamp(event.t, STAMP_WIDTH)} {lane.label.ljust(self.width)} run {index:>2}/{lane.total} {what}"
            f" │ {self.lane_summary(lane)} │ {self.eta_text()}"
        )

    def lane_summary(self, lane: LaneProgress) -> str:
        errors = f" · {lane.errors} ERROR" if lane.errors else ""
        return (
            f"{lane.done}/{lane.total} done · {lane.passed} passed{errors} · mean to pass "
            f"{fmt_seconds(lane.mean_time_to_pass_s)}"
        )

    def eta_text(self, now: float | None = None) -> str:
        p = self.progress
        state = state_text(p)
        if state is not None:
            return state
        return f"{p.done}/{p.total} runs · {eta_text(p, now)}"

    def status_line(self, now: float) -> str:
        lanes = " · ".join(f"{lane.label} {lane.done}/{lane.total}" for lane in self.progress.lanes.values())
        return f"{clock_stamp(now, STAMP_WIDTH)} running: {lanes} │ {self.eta_text(now)}"

    def _say(self, line: str, indent: int = INDENT) -> None:
        width = line_width(self.console, self.wrap)
        self.guarded(lambda: print_line(self.console, line, width=width, indent=indent))
        self.last_line_at = self.progress.now

    async def heartbeat(self) -> None:
        """Every HEARTBEAT_S of silence, one status line (slow lanes finish rarely)."""
        while True:
            await asyncio.sleep(HEARTBEAT_S / 5)
            if self.t0 is None:
                continue  # the race has not started (sandbox still warming up)
            now = time.monotonic() - self.t0
            if self.last_line_at is None or now - self.last_line_at >= HEARTBEAT_S:
                self._say(self.status_line(now))
                self.last_line_at = now
