"""``loopterm bench``: fresh, independent runs of each lane, and the results table.

Every run of every lane is one lane run of ONE stored race (``kind="bench"``,
``bench_id`` = the race id): one folder, one ``.jsonl`` per run. Each run gets
its own provider instance and seed, so no state is shared between runs. The
table at the end comes from the same events ``loopterm report`` reads back.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from loopterm.commands.common import (
    MAX_RUNS,
    load_task,
    positive_int,
    runs_count,
    use_plain,
    writable_trace_root,
)
from loopterm.commands.race import (
    add_loop_options,
    check_ready,
    loop_config,
    resolve_lanes,
    stop_on_signals,
)
from loopterm.exits import Exit
from loopterm.lanes.sims import DEFAULT_SIM_LANES
from loopterm.sanitize import visible

if TYPE_CHECKING:
    from loopterm.lanes import Lane
    from loopterm.loop.race import RaceConfig
    from loopterm.tasks import Task


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "bench",
        help="repeat fresh runs of each lane and print the results table",
        description=(
            "Benchmark lanes: --runs fresh, independent runs of each lane, stored as one trace, "
            "then the results table (passes, one-shots, median iterations, mean time to pass, P90, "
            "best failed score, errors, turn time, tokens, cost, the fitted improvement rate r). "
            f"With no lanes it benchmarks the simulated profiles ({', '.join(DEFAULT_SIM_LANES)}). "
            "`loopterm report` prints the same table again from the stored trace."
        ),
    )
    add_loop_options(p, unit="run")
    p.add_argument("--runs", type=runs_count, default=10, help=f"fresh runs per lane (default 10, at most {MAX_RUNS})")
    p.add_argument(
        "--concurrency",
        type=positive_int,
        help="lane runs at once (default: all; 1 gives undisturbed validation timings)",
    )
    p.add_argument("--plain", action="store_true", help="progress as plain lines, no full-screen UI")
    p.add_argument(
        "--json",
        action="store_true",
        help="print the table as JSON (the shape of `report --format json`); progress goes to stderr",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from loopterm.loop.race import new_race_id

    lanes = resolve_lanes(args.lanes, args.lanes_file, DEFAULT_SIM_LANES)
    check_ready(lanes)
    task = load_task(args)
    race_id = new_race_id()
    config = loop_config(args, task, runs=args.runs, concurrency=args.concurrency, kind="bench", bench_id=race_id)
    root = writable_trace_root(args.trace_dir)
    if use_plain(args):
        return asyncio.run(_plain(lanes, config, task, root, race_id, as_json=args.json))
    return _live(lanes, config, task, root, race_id, theme=args.theme, fps=args.fps)


def _live(
    lanes: list[Lane],
    config: RaceConfig,
    task: Task,
    root: Path,
    race_id: str,
    *,
    theme: str | None,
    fps: int | None = None,
) -> int:
    """The bench in the viewer; the table is printed to the terminal once it closes."""
    from loopterm.plain.console import plain_console
    from loopterm.plain.results import print_bench_results
    from loopterm.sources import EngineSource
    from loopterm.tui.launch import default_theme
    from loopterm.tui.screens.bench_summary import make_bench_app

    source = EngineSource(lanes, config, task, root, race_id=race_id, what="bench")
    app = make_bench_app(
        source,
        theme=default_theme(theme),
        concurrency=config.concurrency,
        stop_on_signals=True,
        fps=fps,
        yield_cpu=True,
    )
    code = app.run()
    out = plain_console()
    print_bench_results(app.events)
    if source.failure is not None:  # the trace could not be written: as the plain bench says it
        print(visible(source.failure), file=sys.stderr)
    elif app.source_error is not None:
        print(f"loopterm: the bench stopped with an error: {visible(app.source_error)}", file=sys.stderr)
    if source.trace_folder is not None:
        out.print(f"trace: {source.trace_folder}", markup=False, soft_wrap=True)
        out.print(f"again from the trace: loopterm report {race_id}", markup=False, soft_wrap=True)
    return code if code is not None else app.exit_code()


async def _plain(lanes: list[Lane], config: RaceConfig, task: Task, root: Path, race_id: str, *, as_json: bool) -> int:
    import asyncio

    from loopterm.plain.bench import ProgressPrinter, print_bench_table
    from loopterm.plain.console import plain_console
    from loopterm.session import RaceSession
    from loopterm.stats.aggregate import build_report
    from loopterm.stats.export import to_json_text
    from loopterm.stats.progress import BenchProgress

    out = plain_console()
    progress_console = plain_console() if not as_json else plain_console(sys.stderr)
    session = RaceSession(root, what="bench")
    events = session.events
    progress = BenchProgress(config.concurrency)
    printer = ProgressPrinter(progress, progress_console)
    printer.on_closed = session.stop
    stop_on_signals(session.stop)
    heartbeat = asyncio.create_task(printer.heartbeat())
    try:
        # Ctrl-C or SIGTERM: the race closes every run in the trace; the table shows what finished.
        await session.race(lanes, config, task, [progress, printer], race_id=race_id)
    finally:
        heartbeat.cancel()
    interrupted = session.interrupted
    if printer.closed:
        print(f"loopterm: output closed; bench stopped, trace: {session.folder}", file=sys.stderr)
        return Exit.OUTPUT_CLOSED
    if session.failure() is not None:
        print(session.failure(), file=sys.stderr)
        return Exit.FAILED
    if not events:  # stopped while the sandbox warmed up: nothing ran, nothing was stored
        print("loopterm: bench stopped before it started; no trace was written", file=sys.stderr)
        return Exit.INTERRUPTED if interrupted else Exit.FAILED
    if as_json:
        report = build_report([events])
        sys.stdout.write(to_json_text(report))
    else:
        out.print()
        report = print_bench_table(out, [events])
        out.print(f"trace: {session.folder}", markup=False, soft_wrap=True)
        out.print(f"again from the trace: loopterm report {race_id}", markup=False, soft_wrap=True)
    for warning in report.warnings:
        print(f"loopterm: warning: {visible(warning)}", file=sys.stderr)
    if interrupted:
        print("loopterm: bench interrupted; the table covers the runs that finished", file=sys.stderr)
        return Exit.INTERRUPTED
    return 0
