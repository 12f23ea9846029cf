"""``loopterm replay``: play a stored race back with its recorded timing."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from loopterm.cli import UsageError
from loopterm.commands.common import add_fps_option, use_plain
from loopterm.sanitize import visible

if TYPE_CHECKING:
    from loopterm.events import RaceStarted
    from loopterm.traces.reader import RaceTrace
    from loopterm.traces.replay import ReplaySource


def replay_speed(text: str) -> float:
    """An argparse type: the one range the replay keys allow, 0.5x to 50x, with one message for any miss."""
    from loopterm.traces.replay import MAX_SPEED, MIN_SPEED

    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not MIN_SPEED <= value <= MAX_SPEED:  # NaN fails this too
        raise argparse.ArgumentTypeError(f"expected a number from {MIN_SPEED:g} to {MAX_SPEED:g}, got {text!r}")
    return value


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "replay",
        help="play a stored race back, with its recorded timing",
        description=(
            "Replay a stored race in the race viewer (or the plain printer) with its recorded timing: "
            "the newest race when no ID is given. ID may be a race id, a unique prefix of one, or the "
            "path of a race folder or lane .jsonl file (e.g. copied from another machine). Keys: "
            "space pause/resume, + / - speed (0.5x to 50x), e jump to the end, r restart, q quit."
        ),
    )
    p.add_argument("ref", nargs="?", metavar="ID|PATH", help="race id, unique prefix, or trace path")
    p.add_argument("--speed", type=replay_speed, default=1.0, help="playback speed, 0.5 to 50 (default 1)")
    p.add_argument("--plain", action="store_true", help="one line per turn, no full-screen UI")
    p.add_argument("--trace-dir", type=Path, help="the traces dir (default: loopterm's cache dir)")
    p.add_argument("--theme", help="TUI theme name")
    add_fps_option(p)
    p.set_defaults(run=run)


def load_trace(ref: str | None, trace_dir: Path | None, *, warn: bool = True) -> RaceTrace:
    """Find and read a race; every problem is a UsageError, every skipped part a warning on stderr.

    ``warn=False``: the caller shows ``trace.warnings`` itself (the viewer, on screen and after it closes).
    """
    from loopterm.paths import traces_dir
    from loopterm.traces import store
    from loopterm.traces.reader import TraceError, read_race

    try:
        path = store.resolve(ref, traces_dir(trace_dir))
        trace = read_race(path)
    except (store.StoreError, TraceError) as exc:
        raise UsageError(str(exc)) from None
    if warn:
        print_warnings(trace)
    return trace


def print_warnings(trace: RaceTrace) -> None:
    for warning in trace.warnings:
        print(f"loopterm: warning: {visible(warning)}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    import asyncio

    from loopterm.traces.replay import ReplaySource

    speed = args.speed  # already within 0.5x to 50x (replay_speed)
    viewer = not use_plain(args)
    trace = load_trace(args.ref, args.trace_dir, warn=not viewer)
    if trace.status == "aborted" and not trace.warnings:
        print(
            f"loopterm: note: race {visible(trace.race_id)} was aborted; it replays up to where it stopped",
            file=sys.stderr,
        )
    if viewer:
        from loopterm.tui.launch import run_replay_app

        # The viewer stays open at the end so "restart" still works there. Its full
        # screen would hide warnings printed now: they are toasts in it, and printed
        # once it closes, so they stay in the scrollback next to the results.
        source = ReplaySource(trace, speed, hold_at_end=True)
        try:
            return run_replay_app(
                source,
                source,
                args.theme,
                trace_folder=trace.folder,
                bench=trace.started.is_bench,
                notices=trace.warnings,
                recorded=trace.events,
                fps=args.fps,
            )
        finally:
            print_warnings(trace)
    return asyncio.run(_plain(ReplaySource(trace, speed), speed, trace.started))


async def _plain(source: ReplaySource, speed: float, started: RaceStarted) -> int:
    """The plain replay; a closed output (``| head``) ends it at once, quietly (exit 141)."""
    import asyncio

    from loopterm.commands.common import canceller
    from loopterm.exits import Exit
    from loopterm.plain.replay import plain_printer

    current = asyncio.current_task()
    # A bench prints as `bench --plain` did (a line per run, the bench table), a race as `race --plain`.
    printer = plain_printer(started, replay_speed=speed, on_closed=canceller(current))
    try:
        await source.run(printer)
    except asyncio.CancelledError:
        if not printer.closed:
            raise
        if current is not None:
            current.uncancel()
    return Exit.OUTPUT_CLOSED if printer.closed else Exit.OK
