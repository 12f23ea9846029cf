"""Run the race viewer full screen: a live race (``loopterm race``) or a replay.

After the app exits, the results table and the trace folder are printed to
the normal screen, so they stay in the terminal's scrollback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from loopterm.plain.results import print_bench_results, print_race_results
from loopterm.sanitize import visible
from loopterm.sources import EngineSource, EventSource, ReplayControls

if TYPE_CHECKING:
    from loopterm.events import Event
    from loopterm.lanes import Lane
    from loopterm.loop.race import RaceConfig
    from loopterm.tasks import Task
    from loopterm.tui.app import LooptermApp


def default_theme(requested: str | None) -> str | None:
    """The requested theme; on a 16-colour terminal the ANSI theme unless one was named."""
    if requested:
        return requested
    from rich.console import Console

    from loopterm.tui.themes import ANSI_THEME

    if Console().color_system == "standard":
        return ANSI_THEME
    return None


def _exit_code(app: LooptermApp, code: int | None) -> int:
    if app.return_code:  # Textual sets 1 when the app itself crashed (it printed the traceback)
        return app.return_code
    return code if code is not None else app.exit_code()


def run_live(
    lanes: list[Lane], config: RaceConfig, task: Task, root: Path, *, theme: str | None = None, fps: int | None = None
) -> int:
    """Race ``lanes`` full screen; 0 when the race finished, 130 when the user quit it.

    ``fps``: the most repaints a second (``--fps``; default ``DEFAULT_FPS``).
    """
    from loopterm.tui.app import make_app

    source = EngineSource(lanes, config, task, root)
    app = make_app(source, theme=default_theme(theme), stop_on_signals=True, fps=fps, yield_cpu=True)
    code = app.run()
    print_race_results(app.events)
    if source.failure is not None:  # the trace could not be written: as the plain race says it
        print(visible(source.failure), file=sys.stderr)
    elif app.source_error is not None:
        print(f"loopterm: the race stopped with an error: {visible(app.source_error)}", file=sys.stderr)
    folder = source.trace_folder or (root / app.race.race_id if app.race.race_id else None)
    if folder is not None:
        print(f"trace: {folder}")
    return _exit_code(app, code)


def replay_app(
    source: EventSource,
    controls: ReplayControls | None,
    theme: str | None = None,
    *,
    trace_folder: Path | None = None,
    bench: bool = False,
    notices: Sequence[str] = (),
    stop_on_signals: bool = True,
    fps: int | None = None,
) -> LooptermApp:
    """The replay viewer (not yet running): the race viewer, or the bench summary for a bench."""
    from loopterm.tui.app import LooptermApp, make_app
    from loopterm.tui.screens.bench_summary import make_bench_app

    make = make_bench_app if bench else make_app
    app = make(
        source,
        controls=controls,
        theme=default_theme(theme),
        trace_folder=trace_folder,
        stop_on_signals=stop_on_signals,
        notices=notices,
        fps=fps,
    )
    assert isinstance(app, LooptermApp)
    return app


def run_replay_app(
    source: EventSource,
    controls: ReplayControls | None,
    theme: str | None = None,
    *,
    trace_folder: Path | None = None,
    bench: bool = False,
    notices: Sequence[str] = (),
    recorded: Sequence[Event] | None = None,
    fps: int | None = None,
) -> int:
    """Show a replay full screen; its keys drive ``controls``. Returns 0 (1 if the replay failed).

    ``notices``: warnings shown on screen as toasts (what the trace reader skipped).

    ``fps``: the most repaints a second (``--fps``).

    ``recorded``: the whole trace; quit part-way, the table printed is the
    recorded one, with a line saying where the replay stopped.

    ``bench``: the trace is a benchmark, so the bench summary (table and charts)
    is the main screen, as it was live, and its table is printed at the end.
    """
    app = replay_app(source, controls, theme, trace_folder=trace_folder, bench=bench, notices=notices, fps=fps)
    code = app.run()
    show = print_bench_results if bench else print_race_results
    show(app.events, recorded=recorded)
    if app.source_error is not None:
        print(f"loopterm: the replay stopped with an error: {visible(app.source_error)}", file=sys.stderr)
    return _exit_code(app, code)
