"""``loopterm race``: race lanes on the task, live."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopterm.cli import UsageError
from loopterm.commands.common import (
    MAX_TURNS,
    add_fps_option,
    add_task_args,
    any_int,
    load_task,
    non_negative_float,
    non_negative_int,
    positive_float,
    turns_count,
    use_plain,
    writable_trace_root,
)
from loopterm.exits import Exit
from loopterm.lanes.sims import DEFAULT_SIM_LANES

if TYPE_CHECKING:
    from loopterm.lanes import Lane
    from loopterm.loop.race import RaceConfig
    from loopterm.tasks import Task

# Simulated latencies are compressed by default so the offline demo ends
# within about a minute; real lanes always run at real speed.
DEFAULT_TIME_SCALE = 0.2


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "race",
        help="race lanes on the task, live (offline sim lanes by default)",
        description=(
            "Race model lanes on a task. With no lanes it races the simulated profiles "
            f"({', '.join(DEFAULT_SIM_LANES)}): no keys, no network. Name lanes to race "
            "real models, e.g. `loopterm race mercury-2 gpt-5.4`."
        ),
    )
    add_loop_options(p, unit="lane")
    p.add_argument("--plain", action="store_true", help="one line per turn, no full-screen UI")
    p.add_argument("--json", action="store_true", help="print the race summary as one JSON object")
    p.set_defaults(run=run)


def add_loop_options(p: argparse.ArgumentParser, *, unit: str) -> None:
    """The options `race` and `bench` share: lanes, loop rules, sim pace, where traces go."""
    p.add_argument("lanes", nargs="*", metavar="LANE", help="preset, provider:model, or a lanes-file name")
    p.add_argument("--lanes", dest="lanes_file", type=Path, help="a lanes TOML file")
    p.add_argument(
        "--max-turns", type=turns_count, default=15, help=f"turn limit per {unit} (default 15, at most {MAX_TURNS})"
    )
    p.add_argument(
        "--thrash-k",
        type=non_negative_int,
        default=3,
        help=f"stop a {unit} after K turns with no new best score (default 3, 0 = never)",
    )
    p.add_argument("--budget", type=positive_float, help=f"wall-clock budget per {unit}, seconds")
    p.add_argument(
        "--time-scale",
        type=non_negative_float,
        default=DEFAULT_TIME_SCALE,
        help=f"multiply simulated latencies (default {DEFAULT_TIME_SCALE}; 1 = the profiles' real pace)",
    )
    p.add_argument("--seed", type=any_int, help="seed for simulated lanes (default: random, recorded)")
    p.add_argument("--trace-dir", type=Path, help="where to write the trace (default: the cache dir)")
    add_task_args(p)
    p.add_argument("--theme", help="TUI theme name")
    add_fps_option(p)


def loop_config(args: argparse.Namespace, task: Task, **extra: Any) -> RaceConfig:
    """A RaceConfig from the shared options (plus bench's own fields in ``extra``)."""
    from loopterm.loop.race import RaceConfig

    return RaceConfig(
        task_id=task.id,
        task_dir=args.task_dir,
        max_turns=args.max_turns,
        thrash_k=args.thrash_k,
        budget_s=args.budget,
        time_scale=args.time_scale,
        seed=args.seed,
        **extra,
    )


def resolve_lanes(names: list[str], lanes_file: Path | None, default: list[str]) -> list[Lane]:
    """Lanes from the command line; every lanes-file lane when only a file is given."""
    from loopterm import lanes as lanes_mod

    try:
        file_lanes = lanes_mod.load_user_lanes(lanes_file)
        if not names:
            if lanes_file is not None:
                if not file_lanes:
                    raise UsageError(f"{lanes_file}: defines no lanes; add [[lanes]] tables")
                return list(file_lanes.values())
            names = default
        return [lanes_mod.resolve(name, file_lanes) for name in names]
    except lanes_mod.LaneError as exc:
        raise UsageError(str(exc)) from None


def check_ready(lanes: list[Lane]) -> None:
    """Refuse, before anything starts, lanes that cannot run here, naming what to do for each.

    A missing key, the local extra not installed, a local server that does not
    answer: what `loopterm lanes` already says. Started anyway they would only
    end as ERROR lanes with a 0/47 bar and exit 0.
    """
    import asyncio

    from loopterm.providers.readiness import Readiness, readiness
    from loopterm.sanitize import visible

    async def look() -> list[Readiness]:
        return list(await asyncio.gather(*(readiness(lane) for lane in lanes)))

    found = asyncio.run(look())
    missing = [
        f"lane '{visible(lane.name)}' is not ready: {ready.detail}"
        for lane, ready in zip(lanes, found, strict=True)
        if not ready.ready
    ]
    if missing:
        raise UsageError("; ".join(missing) + " (see `loopterm lanes`; no lanes = the offline simulated race)")


def run(args: argparse.Namespace) -> int:
    import asyncio

    lanes = resolve_lanes(args.lanes, args.lanes_file, DEFAULT_SIM_LANES)
    check_ready(lanes)
    task = load_task(args)
    config = loop_config(args, task)
    root = writable_trace_root(args.trace_dir)
    if use_plain(args):
        return asyncio.run(_plain(lanes, config, task, root, as_json=args.json))
    from loopterm.tui.launch import run_live

    return run_live(lanes, config, task, root, theme=args.theme, fps=args.fps)


async def _plain(lanes: list[Lane], config: RaceConfig, task: Task, root: Path, *, as_json: bool) -> int:
    """The race with plain output. SIGTERM, SIGHUP or a closed output (``| head``) stop
    it like Ctrl-C: every lane is closed in the trace, which is marked aborted."""

    from loopterm.events import RaceStarted
    from loopterm.plain.race import PlainPrinter
    from loopterm.session import RaceSession
    from loopterm.stats.runs import summarize

    session = RaceSession(root)
    events = session.events
    printer = PlainPrinter(on_closed=session.stop) if not as_json else None
    stop_on_signals(session.stop)
    await session.race(lanes, config, task, [printer] if printer is not None else [])
    interrupted = session.interrupted
    if printer is not None and printer.closed:
        print(f"loopterm: output closed; race stopped, trace: {session.folder}", file=sys.stderr)
        return Exit.OUTPUT_CLOSED
    if session.failure() is not None:
        print(session.failure(), file=sys.stderr)
        return Exit.FAILED
    folder = session.folder  # None when stopped before the race started (sandbox warm-up)
    if as_json:
        summary = {
            "race_id": next((event.race_id for event in events if isinstance(event, RaceStarted)), None),
            "trace_dir": None if folder is None else str(folder),
            "aborted": interrupted,
            "lanes": [run.to_json() for run in summarize(events)],
        }
        json.dump(summary, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif folder is not None:
        print(f"trace: {folder}")
    if interrupted:
        if folder is None:
            print("loopterm: race stopped before it started; no trace was written", file=sys.stderr)
        else:
            print("loopterm: race stopped; its trace is complete, marked aborted", file=sys.stderr)
        return Exit.INTERRUPTED
    return 0


def stop_on_signals(stop: Callable[[], object] | None) -> None:
    """SIGTERM and SIGHUP (a dropped SSH session) call ``stop``, as Ctrl-C does for asyncio."""
    import asyncio
    import signal

    if stop is None:
        return
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGHUP):
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signum, stop)
