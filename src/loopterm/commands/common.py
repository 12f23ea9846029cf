"""Argument helpers shared by subcommands."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from loopterm.cli import UsageError


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a number of at least 1, got {value}")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected 0 or more, got {value}")
    return value


def positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value > 0 or value != value or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number above 0, got {text}")
    return value


def non_negative_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number of 0 or more, got {text}")
    return value


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
