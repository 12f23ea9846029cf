"""Argument helpers shared by subcommands."""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from loopterm.cli import UsageError


def _number(kind: type[int] | type[float], minimum: float, inclusive: bool) -> Callable[[str], Any]:
    """An argparse type: a finite number of ``kind`` at or above (or above) ``minimum``."""
    noun = "a whole number" if kind is int else "a number"
    bound = f"{'of at least' if inclusive else 'above'} {minimum:g}"
    if kind is float and minimum == 0 and inclusive:
        bound = "of 0 or more"

    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {noun}, got {text!r}") from None
        ok = value >= minimum if inclusive else value > minimum
        if not ok or value != value or value == float("inf"):  # NaN and inf are never meant
            raise argparse.ArgumentTypeError(f"expected {noun} {bound}, got {text}")
        return value

    return parse


positive_int = _number(int, 1, inclusive=True)
non_negative_int = _number(int, 0, inclusive=True)
positive_float = _number(float, 0, inclusive=False)
non_negative_float = _number(float, 0, inclusive=True)


def add_task_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--task", default="quote-approval", help="task id (default: quote-approval)")
    parser.add_argument(
        "--task-dir", type=Path, help="a folder holding spec/<task>/ and validation/<task>/"
    )


def load_task(args: argparse.Namespace):
    from loopterm.tasks import TaskError, find_task

    try:
        task = find_task(args.task, args.task_dir)
        task.suite  # noqa: B018 - load now so a broken suite is a usage error, not a crash
    except TaskError as exc:
        raise UsageError(str(exc)) from None
    return task


def use_plain(args: argparse.Namespace) -> bool:
    """Plain output when asked, for JSON, or when stdout is not a terminal."""
    import sys

    return bool(args.plain or getattr(args, "json", False) or not sys.stdout.isatty()
                or os.environ.get("TERM") == "dumb")
