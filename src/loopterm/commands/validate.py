"""``loopterm validate FILE``: score one candidate file against a task's suite, in the sandbox."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopterm.cli import UsageError
from loopterm.commands.common import add_task_args, load_task
from loopterm.sanitize import visible
from loopterm.words import plural

if TYPE_CHECKING:
    from loopterm.events import ValidationResult


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
        help="validate N times on the warm worker and report latency (min, p50, p90); status, "
        "score and exit code are the first run's, and runs that disagree are reported",
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
    import statistics  # here, not at the top: `loopterm --help` imports every command module

    ordered = sorted(durations_ms)
    p90 = ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]
    return {"min": round(ordered[0], 1), "p50": round(statistics.median(ordered), 1), "p90": round(p90, 1)}


def agreement(results: list[ValidationResult]) -> dict[str, Any]:
    """How far repeated validations of one file agree: a deterministic file agrees fully.

    ``passed_range`` is the lowest and highest passed count; ``flaky_checks`` the
    ids that passed in some runs and failed in others (in suite order).
    """
    passed = [r.passed for r in results]
    outcomes: dict[str, set[bool]] = {}
    for result in results:
        for check in result.checks:
            outcomes.setdefault(check.id, set()).add(check.passed)
    flaky = [check_id for check_id, seen in outcomes.items() if len(seen) > 1]
    return {"runs": len(results), "passed_range": [min(passed), max(passed)], "flaky_checks": flaky}


def disagreement_line(repeat: dict[str, Any], total: int) -> str | None:
    """One warning line when the runs disagree, else None."""
    low, high = repeat["passed_range"]
    if low == high and not repeat["flaky_checks"]:
        return None
    line = f"warning: the {repeat['runs']} runs disagree: passed {low} to {high} of {total}"
    if repeat["flaky_checks"]:
        line += f"; flaky checks: {', '.join(repeat['flaky_checks'])}"
    return line + " (status, score and exit code are the first run's)"


def as_json(
    result: ValidationResult, latency_ms: dict[str, float] | None, repeat: dict[str, Any] | None = None
) -> dict[str, Any]:
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
    if repeat is not None:
        data.update(repeat)
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
        print(f"loopterm: error: {visible(str(exc), multiline=True)}", file=sys.stderr)
        return 1
    result = results[0]
    stats = latency([r.duration_ms for r in results]) if args.repeat is not None else None
    repeat = agreement(results) if args.repeat is not None else None
    if args.json:
        print(json.dumps(as_json(result, stats, repeat)))
    else:
        print_report(result, args.file, stats, len(results), layers, repeat)
    # The first run decides, as in a race (which validates each answer once); a
    # disagreement is reported above, not turned into a different exit code.
    return 0 if result.status == "PASS" else 1


OUTPUT_LINES = 20  # of the candidate's own output, shown when it did not load


def failure_text(result: ValidationResult) -> str:
    """Every failing check for a person, grouped; not the model's capped feedback.

    Raw: the load error, the candidate's output and the check messages are the
    candidate's words; :func:`print_report` makes their control characters visible.
    """
    from loopterm.suite import GROUPS

    lines: list[str] = []
    if result.error is not None:
        lines.append(f"did not load: {result.error}")
        output = result.output.strip().splitlines()
        if output:
            lines.append(f"its output (last {min(len(output), OUTPUT_LINES)} lines):")
            lines += [f"  {line}" for line in output[-OUTPUT_LINES:]]
        return "\n".join(lines)
    failing = result.failing
    order = list(GROUPS) + sorted({c.group for c in failing} - set(GROUPS))
    for group in order:
        members = [c for c in failing if c.group == group]
        if not members:
            continue
        lines.append(f"{group}: {len(members)} failing" if not lines else f"\n{group}: {len(members)} failing")
        for check in members:
            lines.append(f"- {check.id}: {check.description}")
            lines += [f"  {line}" for line in (check.message or "failed").strip().splitlines()]
    return "\n".join(lines)


def print_report(
    result: ValidationResult,
    path: Path,
    stats: dict[str, float] | None,
    runs: int,
    layers: list[str],
    repeat: dict[str, Any] | None = None,
) -> None:
    from rich.markup import escape

    from loopterm.plain.console import plain_console

    console = plain_console()
    colour = {"PASS": "green", "PARTIAL": "yellow", "FAIL": "red"}[result.status]
    shown, task = escape(visible(str(path))), escape(visible(result.task))
    console.print(
        f"[bold {colour}]{result.status}[/]  {shown}  [bold]{result.passed}/{result.total}[/] checks"
        f"  score {result.score:.2f}  {result.duration_ms:.0f} ms  [dim](task {task})[/]",
        soft_wrap=True,
    )
    if result.status != "PASS":
        console.print()
        # What the candidate printed or raised, and its check messages: an escape sequence in them
        # (a clipboard write, a screen clear, a fake PASS) is shown as ^[, never sent; and as plain
        # text, never rich markup, so "[green]PASS" stays those characters.
        console.print(visible(failure_text(result), multiline=True), markup=False, soft_wrap=True)
    if stats is not None:
        console.print(
            f"\nlatency over {plural(runs, 'validation')}: min {stats['min']:.0f} ms, "
            f"p50 {stats['p50']:.0f} ms, p90 {stats['p90']:.0f} ms"
        )
    warning = disagreement_line(repeat, result.total) if repeat is not None else None
    if warning is not None:
        console.print(f"[bold yellow]{escape(warning)}[/]", soft_wrap=True)
    if layers:
        console.print(f"[dim]sandbox: {', '.join(layers)}[/]")
