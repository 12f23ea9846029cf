"""``loopterm validate FILE``: score one candidate file against a task's suite, in the sandbox."""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopterm.cli import UsageError
from loopterm.commands.common import add_task_args, load_task

if TYPE_CHECKING:
    from loopterm.events import ValidationResult


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate",
        help="score one candidate file against the task's checks, in the sandbox",
        description=(
            "Run the task's validation suite against FILE (one Python file defining `app`) in the "
            "sandbox, exactly as a race would. Exit 0 when every check passes, 1 otherwise, 2 on bad input."
        ),
    )
    p.add_argument("file", type=Path, metavar="FILE", help="the candidate .py file")
    add_task_args(p)
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the report")
    p.add_argument(
        "--repeat",
        type=int,
        metavar="N",
        help="validate N times on the warm worker and report latency (min, p50, p90)",
    )
    p.set_defaults(run=run)


def read_candidate(path: Path) -> str:
    """The candidate's text, or a UsageError saying what is wrong with the file."""
    if not path.exists():
        raise UsageError(f"{path}: no such file; pass the path of a candidate .py file")
    if path.is_dir():
        raise UsageError(f"{path}: is a folder; pass the path of a candidate .py file")
    try:
        return path.read_text(encoding="utf-8")
    except PermissionError:
        raise UsageError(f"{path}: cannot be read (permission denied)") from None
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path}: is not UTF-8 text (byte {exc.start}); save it as UTF-8") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read ({exc.strerror})") from None


def latency(durations_ms: list[float]) -> dict[str, float]:
    """min, median and 90th percentile (nearest rank) of the validations' wall times."""
    ordered = sorted(durations_ms)
    p90 = ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]
    return {"min": round(ordered[0], 1), "p50": round(statistics.median(ordered), 1), "p90": round(p90, 1)}


def as_json(result: ValidationResult, latency_ms: dict[str, float] | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "task": result.task,
        "score": result.score,
        "passed": result.passed,
        "total": result.total,
        "status": result.status,
        "error": result.error,
        "duration_ms": round(result.duration_ms, 1),
        "checks": [
            {
                "id": c.id,
                "group": c.group,
                "description": c.description,
                "passed": c.passed,
                "message": c.message,
                "duration_ms": round(c.duration_ms, 2),
            }
            for c in result.checks
        ],
    }
    if latency_ms is not None:
        data["latency_ms"] = latency_ms
    return data


async def _validate_all(task: Any, source: str, repeat: int) -> tuple[list[ValidationResult], list[str]]:
    from loopterm.sandbox import Sandbox

    results = []
    async with Sandbox(task) as sandbox:
        for _ in range(repeat):
            results.append(await sandbox.validate(source))
        return results, sandbox.layers


def run(args: argparse.Namespace) -> int:
    import asyncio

    from loopterm.sandbox import SandboxError

    if args.repeat is not None and args.repeat < 1:
        raise UsageError(f"--repeat must be at least 1, not {args.repeat}")
    source = read_candidate(args.file)
    task = load_task(args)
    try:
        results, layers = asyncio.run(_validate_all(task, source, args.repeat or 1))
    except SandboxError as exc:
        print(f"loopterm: error: {exc}", file=sys.stderr)
        return 1
    result = results[0]
    stats = latency([r.duration_ms for r in results]) if args.repeat is not None else None
    if args.json:
        print(json.dumps(as_json(result, stats)))
    else:
        print_report(result, args.file, stats, len(results), layers)
    return 0 if result.status == "PASS" else 1


def _feedback_text(result: ValidationResult) -> str:
    try:
        from loopterm.feedback import format_feedback
    except ImportError:  # feedback is another module's job; fall back to a compact list
        lines = [f"Error: {result.error}"] if result.error else []
        lines += [f"- {c.id}: {c.message}" for c in result.failing if not result.error]
        return "\n".join(lines)
    return format_feedback(result)


def print_report(
    result: ValidationResult, path: Path, stats: dict[str, float] | None, runs: int, layers: list[str]
) -> None:
    from rich.markup import escape

    from loopterm.printer import plain_console

    console = plain_console()
    colour = {"PASS": "green", "PARTIAL": "yellow", "FAIL": "red"}[result.status]
    console.print(
        f"[bold {colour}]{result.status}[/]  {escape(str(path))}  [bold]{result.passed}/{result.total}[/] checks"
        f"  score {result.score:.2f}  {result.duration_ms:.0f} ms  [dim](task {escape(result.task)})[/]",
        soft_wrap=True,
    )
    if result.status != "PASS":
        console.print()
        console.print(escape(_feedback_text(result)), soft_wrap=True)
    if stats is not None:
        console.print(
            f"\nlatency over {runs} validation{'s' if runs != 1 else ''}: min {stats['min']:.0f} ms, "
            f"p50 {stats['p50']:.0f} ms, p90 {stats['p90']:.0f} ms"
        )
    if layers:
        console.print(f"[dim]sandbox: {', '.join(layers)}[/]")
