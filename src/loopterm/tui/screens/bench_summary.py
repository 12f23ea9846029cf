"""The benchmark summary: the results table, scores against time with fitted curves, time to pass.

It folds the events it is given (live, as a bench runs, or read from a
trace) through the same :func:`loopterm.stats.aggregate.build_report` that
``bench`` and ``report`` print, so the screen and the terminal agree. While a
bench runs it also shows runs done per lane and an ETA.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import Static

from loopterm.events import Event, GenerationProgress, RaceDone, RaceStarted
from loopterm.naming import plural
from loopterm.sources import EventSource, ReplayControls
from loopterm.stats.aggregate import Report, build_report
from loopterm.stats.export import describe_sources, lane_label, notes
from loopterm.stats.progress import BenchProgress, eta_text
from loopterm.tui.chartgrid import marker
from loopterm.tui.footer import make_footer
from loopterm.tui.glyphs import Glyphs
from loopterm.tui.widgets.bench_scores import BenchScoreChart
from loopterm.tui.widgets.bench_table import BenchTable
from loopterm.tui.widgets.bench_times import TimeToPassStrip, strip_key
from loopterm.tui.widgets.flow_legend import FlowLegend

if TYPE_CHECKING:
    from textual._path import CSSPathType  # Textual's own alias for CSS_PATH (types only)

    from loopterm.tui.app import LooptermApp

REFRESH_S = 0.5  # the table and charts: rebuilt only when new events came
BADGE_S = 0.1  # the progress line, so a replay's pause and speed keys show at once


def progress_text(progress: BenchProgress, finished: bool, aborted: bool, now: float | None) -> str:
    """ "Fast diffusion (sim) 10/10 · Frontier (sim) 6/10 · 16/20 runs · ETA 40 s"."""
    lanes = " · ".join(f"{lane.label} {lane.done}/{lane.total}" for lane in progress.lanes.values())
    if finished:
        state = "aborted" if aborted else "finished"
    else:
        state = f"{progress.done}/{progress.total} runs · " + eta_text(progress, now, lambda s: f"{s:.0f} s")
    return f"{lanes} · {state}" if lanes else state


class BenchSummaryScreen(Screen[None]):
    DEFAULT_CSS = """
    BenchSummaryScreen { layout: vertical; }
    BenchSummaryScreen > .bench-heading { height: 1; text-style: bold; }
    /* One line each, cut with an ellipsis: a wrapped heading would lose its second line. */
    BenchSummaryScreen > .bench-heading, BenchSummaryScreen > #bench-progress, BenchSummaryScreen > #bench-legend {
        text-wrap: nowrap; text-overflow: ellipsis;
    }
    BenchSummaryScreen > #bench-progress, BenchSummaryScreen > #bench-legend { height: auto; }
    BenchSummaryScreen > #bench-notes { height: auto; color: $lt-muted; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Back", id="bench.back")]

    def __init__(
        self,
        events: Callable[[], Sequence[Event]],
        glyphs: Glyphs,
        *,
        now: Callable[[], float] | None = None,
        closable: bool = True,
        concurrency: int | None = None,
        controls: ReplayControls | None = None,
    ) -> None:
        super().__init__(id="bench-summary")
        self.controls = controls  # a replay's: its speed and pause show on the progress line
        self.events = events
        self.glyphs = glyphs
        self.now = now
        self.closable = closable
        self.report: Report | None = None
        self.concurrency = concurrency  # the bench's --concurrency, for the ETA
        self.progress = BenchProgress(concurrency)
        self._fed = 0
        self._finished = False
        self._stale = True  # the report must be (re)built whatever the next events are
        self._aborted = False
        self._progress_line: Text | None = None

    def compose(self) -> ComposeResult:
        yield Static(id="bench-title", classes="bench-heading")
        yield Static(id="bench-progress")
        yield BenchTable()
        yield Static(id="bench-notes")
        yield Static(
            Text(
                "Score against seconds since each run started (letters: turns; fitted curves on top)",
                no_wrap=True,
                overflow="ellipsis",
            ),
            classes="bench-heading",
        )
        yield BenchScoreChart(self.glyphs)
        yield FlowLegend(id="bench-legend")
        yield Static(
            Text(strip_key(self.glyphs), no_wrap=True, overflow="ellipsis"),
            classes="bench-heading",
        )
        yield TimeToPassStrip(self.glyphs)
        yield make_footer(self.app)

    def on_mount(self) -> None:
        self.refresh_content()
        self.set_interval(REFRESH_S, self.refresh_content)
        if self.controls is not None:
            self.set_interval(BADGE_S, self.refresh_progress)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "close":
            return self.closable
        return True

    def action_close(self) -> None:
        self.dismiss()

    def _feed(self, events: Sequence[Event]) -> bool:
        """Give the progress the events it has not seen; True when the report may have changed.

        Streaming progress (many a second) changes no figure in the report, so it
        does not make the screen rebuild it.
        """
        if len(events) < self._fed:  # a new race (a replay restarted): start over
            self.progress, self._fed, self._finished = BenchProgress(self.concurrency), 0, False
            self._stale = True
        new = events[self._fed :]
        for event in new:
            self.progress(event)
            if isinstance(event, RaceDone):
                self._finished, self._aborted = True, event.aborted
        self._fed = len(events)
        return any(not isinstance(event, GenerationProgress) for event in new) or self._stale

    def show_news(self, lanes: set[str | None]) -> None:
        self.refresh_content()

    def refresh_content(self) -> None:
        events = self.events()
        now = self.now() if self.now is not None else None
        if self._feed(events) and events and isinstance(events[0], RaceStarted):
            self._stale = False
            self.show(build_report([events]))
        if self.report is None:
            self.query_one("#bench-title", Static).update(Text("waiting for the bench to start"))
            return
        self.refresh_progress(now)

    def refresh_progress(self, now: float | None = None) -> None:
        """The progress line (runs done, ETA), behind the REPLAY badge in a replay."""
        if self.report is None:
            return
        if now is None and self.now is not None:
            now = self.now()
        line = Text(no_wrap=True, overflow="ellipsis")
        if self.controls is not None:
            line.append(f" REPLAY x{self.controls.speed:g} ", "reverse bold")
            if self.controls.paused:
                line.append(" PAUSED ", "reverse")
            line.append(" ")
        line.append(progress_text(self.progress, self._finished, self._aborted, now))
        if line != self._progress_line:  # an update lays the screen out again: only for new words
            self._progress_line = line
            self.query_one("#bench-progress", Static).update(line)

    def on_bench_table_fitted(self, message: BenchTable.Fitted) -> None:
        self._show_notes()

    def _show_notes(self) -> None:
        lines = notes(self.report) if self.report is not None else []
        hidden = self.query_one(BenchTable).hidden
        if hidden:
            more = plural(len(hidden), "more column")
            lines.append(f"{more} on a wider terminal, or all with `loopterm report`")
        self.query_one("#bench-notes", Static).update(Text("\n".join(lines)))

    def show(self, report: Report) -> None:
        """Put a report on every part of the screen."""
        self.report = report
        self.query_one("#bench-title", Static).update(Text(describe_sources(report), no_wrap=True, overflow="ellipsis"))
        self.query_one(BenchTable).show(report)
        self._show_notes()
        chart = self.query_one(BenchScoreChart)
        chart.show(report)
        legend = []
        for i, row in enumerate(report.rows):
            r = "n/a" if row.fitted_r is None else f"{row.fitted_r:.2f}"
            legend.append(Text(f"{marker(i)} {lane_label(row, report.rows)}  r {r}", chart.lane_style(i)))
        dot = "*" if self.glyphs.ascii else "•"
        legend.append(Text(f"{dot}{dot} fitted curve", "dim"))
        self.query_one(FlowLegend).show(legend)
        self.query_one(TimeToPassStrip).show(report)


def make_bench_app(
    source: EventSource,
    *,
    controls: ReplayControls | None = None,
    theme: str | None = None,
    glyphs: Glyphs | None = None,
    concurrency: int | None = None,
    trace_folder: Path | None = None,
    stop_on_signals: bool = False,
    notices: Iterable[str] = (),
    fps: int | None = None,
    yield_cpu: bool = False,
) -> LooptermApp:
    """The race viewer with the bench summary as its main screen (``s``, ``c`` still open the others).

    A live bench (``loopterm bench``) or a replayed one (``loopterm replay`` of a
    bench trace: ``controls`` then drive it with the same keys as a race replay).
    ``fps``: the most repaints a second, as for ``make_app``.
    """
    import inspect

    from loopterm.tui.app import LooptermApp, source_clock

    # Textual reads a relative CSS_PATH next to the module defining the class: this one.
    paths = LooptermApp.CSS_PATH if isinstance(LooptermApp.CSS_PATH, list) else [LooptermApp.CSS_PATH]
    here = Path(inspect.getfile(LooptermApp)).parent

    class BenchApp(LooptermApp):
        CSS_PATH: ClassVar[CSSPathType | None] = [here / p for p in paths if p is not None]

        def get_default_screen(self) -> Screen[Any]:
            return BenchSummaryScreen(
                lambda: self.events,
                self.glyphs,
                now=self.now,
                closable=False,
                concurrency=concurrency,
                controls=self.controls,
            )

    return BenchApp(
        source,
        controls=controls,
        theme=theme,
        glyphs=glyphs,
        now=source_clock(source),
        trace_folder=trace_folder,
        stop_on_signals=stop_on_signals,
        notices=notices,
        fps=fps,
        yield_cpu=yield_cpu,
    )
