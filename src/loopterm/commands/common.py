"""Argument helpers shared by subcommands."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopterm.cli import UsageError

if TYPE_CHECKING:
    import asyncio

    from loopterm.tasks import Task


def _number(
    kind: type[int] | type[float], minimum: float, inclusive: bool, maximum: float | None = None
) -> Callable[[str], int | float]:
    """An argparse type: a finite number of ``kind`` at or above (or above) ``minimum``,
    and at most ``maximum`` when given."""
    noun = "a whole number" if kind is int else "a number"
    bound = f"{'of at least' if inclusive else 'above'} {minimum:g}"
    if kind is float and minimum == 0 and inclusive:
        bound = "of 0 or more"

    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {noun}, got {text!r}") from None
        ok = value >= minimum if inclusive else value > minimum
        if not ok or value != value or value == float("inf"):  # NaN and inf are never meant
            raise argparse.ArgumentTypeError(f"expected {noun} {bound}, got {text}")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"expected {noun} of at most {maximum:g}, got {text}")
        return value

    return parse


positive_int = _number(int, 1, inclusive=True)
# Upper bounds where a typo would otherwise plan a billion runs (a MemoryError) or turns.
MAX_RUNS = 1000
MAX_TURNS = 1000
runs_count = _number(int, 1, inclusive=True, maximum=MAX_RUNS)
turns_count = _number(int, 1, inclusive=True, maximum=MAX_TURNS)
non_negative_int = _number(int, 0, inclusive=True)
any_int = _number(int, -float("inf"), inclusive=True)  # e.g. a seed: any whole number
positive_float = _number(float, 0, inclusive=False)
non_negative_float = _number(float, 0, inclusive=True)


def add_task_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", default="quote-approval", help="task id (default: quote-approval)")
    parser.add_argument("--task-dir", type=Path, help="a folder holding spec/<task>/ and validation/<task>/")


def load_task(args: argparse.Namespace) -> Task:
    from loopterm.tasks import TaskError, find_task

    try:
        task = find_task(args.task, args.task_dir)
        task.suite  # noqa: B018 - load now so a broken suite is a usage error, not a crash
    except TaskError as exc:
        raise UsageError(str(exc)) from None
    return task


def writable_trace_root(override: Path | None) -> Path:
    """The traces folder (made if missing), checked before a race starts.

    Found out only when the first event is written, an unusable folder was a
    traceback from inside the race; here it is one line and nothing has run.
    """
    from loopterm.paths import traces_dir

    root = traces_dir(override)
    if root.exists() and not root.is_dir():
        raise UsageError(f"cannot store traces in {root}: it is a file, not a folder; pass --trace-dir DIR")
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"cannot store traces in {root}: {exc.strerror or exc}; pass --trace-dir DIR") from None
    if not os.access(root, os.W_OK | os.X_OK):
        raise UsageError(f"cannot store traces in {root}: not writable; pass --trace-dir DIR")
    return root


def use_plain(args: argparse.Namespace) -> bool:
    """Plain output when asked, for JSON, or when stdout is not a terminal."""
    import sys

    return bool(
        args.plain or getattr(args, "json", False) or not sys.stdout.isatty() or os.environ.get("TERM") == "dumb"
    )


def canceller(task: asyncio.Task[Any] | None) -> Callable[[], None] | None:
    """A way to stop ``task`` as Ctrl-C would, or None outside a task."""
    if task is None:
        return None

    def stop() -> None:
        task.cancel()

    return stop


def add_fps_option(p: argparse.ArgumentParser) -> None:
    """``--fps N``: how often the viewer may repaint (race, bench, replay): less for a slow link."""
    from loopterm.tui import DEFAULT_FPS, MAX_FPS  # constants only: no Textual import

    p.add_argument(
        "--fps",
        type=_number(int, 1, inclusive=True, maximum=MAX_FPS),
        default=DEFAULT_FPS,
        metavar="N",
        help=f"the viewer repaints at most N times a second (default {DEFAULT_FPS}, at most {MAX_FPS}); "
        "lower it for a slow link. Below 10 the timers tick N times a second too",
    )
