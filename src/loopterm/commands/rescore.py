"""``loopterm rescore``: judge a stored race's answers again with the current suite."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopterm.cli import UsageError
from loopterm.naming import plural
from loopterm.sanitize import visible

if TYPE_CHECKING:
    from loopterm.events import Event
    from loopterm.stats.runs import RunSummary
    from loopterm.tasks import Task
    from loopterm.traces.reader import RaceTrace


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "rescore",
        help="re-validate a stored race's answers against the current suite (no model calls)",
        description=(
            "Validate every candidate recorded in a race again, in the sandbox, against the task's "
            "current suite: no model is called. Turn statuses, the THRASH rule and each lane's outcome "
            "are recomputed (a lane that now passes earlier stops there), a new trace marked as a "
            "rescore of the old one is written, and old vs new is printed per lane. The newest race "
            "when no ID is given, as for replay, export and report."
        ),
    )
    p.add_argument("ref", nargs="?", metavar="ID|PATH", help="race id, unique prefix, or trace path")
    p.add_argument("--task-dir", type=Path, help="a folder holding spec/<task>/ and validation/<task>/")
    p.add_argument("--trace-dir", type=Path, help="the traces dir (default: loopterm's cache dir)")
    out = p.add_mutually_exclusive_group()
    out.add_argument("--plain", action="store_true", help="plain text, no colours")
    out.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(run=run)


async def _rescore(trace: RaceTrace, task: Task) -> list[Event]:
    from loopterm.sandbox import Sandbox
    from loopterm.traces.rescore import rescore_events

    async with Sandbox(task) as sandbox:
        return await rescore_events(trace, task, sandbox)


def _side(run: RunSummary) -> dict[str, Any]:
    return {
        "outcome": run.outcome,
        "reason": run.reason,
        "turns": run.turns,
        "best_score": run.best_score,
        "final_score": run.final_score,
        "time_to_pass_s": run.time_to_pass_s,
        "place": run.place,
        "statuses": run.statuses,
        "scores": run.scores,
    }


def _short(run: RunSummary) -> str:
    from loopterm.words import outcome_label

    label = outcome_label(run.outcome)
    return f"{label} t{run.turns} {run.final_score:.0%}"


def run(args: argparse.Namespace) -> int:
    import asyncio

    from loopterm.commands.replay import load_trace
    from loopterm.paths import traces_dir
    from loopterm.sandbox import SandboxError
    from loopterm.session import RaceSession
    from loopterm.stats.runs import summarize
    from loopterm.stats.table import run_labels
    from loopterm.tasks import TaskError, find_task

    trace = load_trace(args.ref, args.trace_dir)
    try:
        task = find_task(trace.started.task_id, args.task_dir)
        task.suite  # noqa: B018 - load now so a broken suite is a usage error, not a crash
    except TaskError as exc:
        raise UsageError(str(exc)) from None
    answers = sum(1 for e in trace.events if e.type == "validation_done")
    if not args.json:
        print(
            f"rescoring {plural(answers, 'recorded answer')} of race {visible(trace.race_id)} "
            f"against task {task.id} ({task.validation_dir}) ...",
            file=sys.stderr,
        )
    try:
        events = asyncio.run(_rescore(trace, task))
    except SandboxError as exc:
        print(f"loopterm: error: {visible(str(exc), multiline=True)}", file=sys.stderr)
        return 1
    session = RaceSession(traces_dir(args.trace_dir), what="rescore")
    session.record(events)
    if session.failure() is not None:
        print(session.failure(), file=sys.stderr)
        return 1
    old_runs = {r.info.run_id: r for r in summarize(trace.events)}
    new_runs = summarize(events)
    labels = run_labels(new_runs)
    changed = trace.started.task_hash != task.hash
    failures = sandbox_failures(events, labels)
    if args.json:
        data = {
            "race_id": events[0].race_id,  # type: ignore[union-attr]
            "rescore_of": trace.race_id,
            "trace_dir": str(session.folder),
            "task": task.id,
            "task_hash_old": trace.started.task_hash,
            "task_hash_new": task.hash,
            "suite_changed": changed,
            "lanes": [
                {
                    "name": r.info.name,
                    "label": labels[r.info.run_id],
                    "run_id": r.info.run_id,
                    "old": _side(old_runs[r.info.run_id]),
                    "new": _side(r),
                }
                for r in new_runs
            ],
        }
        print(json.dumps(data, indent=2))
    else:
        _print_comparison(trace, new_runs, old_runs, labels, changed, str(session.folder), plain=args.plain)
    for line in failures:
        print(f"loopterm: error: {line}", file=sys.stderr)
    return 1 if failures else 0


def sandbox_failures(events: list[Event], labels: dict[str, str]) -> list[str]:
    """One line per lane whose rescore stopped because the sandbox failed under a validation.

    Such a lane ends ERROR (as in a race, never the model's FAIL), so its new
    outcome says nothing about its answers: the command exits 1 and says to run it again.
    """
    from loopterm.events import ValidationDone

    return [
        f"{labels.get(e.lane, visible(e.lane))}: the sandbox failed while rescoring turn {e.turn} "
        f"({visible(e.result.infrastructure_error)}); that lane's rescore ends there as ERROR, not the model's "
        "failure; run rescore again"
        for e in events
        if isinstance(e, ValidationDone) and e.result.infrastructure_error
    ]


def _print_comparison(
    trace: RaceTrace,
    new_runs: list[RunSummary],
    old_runs: dict[str, RunSummary],
    labels: dict[str, str],
    changed: bool,
    folder: str,
    *,
    plain: bool,
) -> None:
    from rich import box
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = Console(highlight=False, no_color=plain, width=None if sys.stdout.isatty() else 120)
    suite = "the suite changed since the race" if changed else "the suite is unchanged since the race"
    console.print(
        visible(f"rescore of race {trace.race_id} · task {trace.started.task_id} · {suite}"),
        markup=False,
        soft_wrap=True,
    )
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, collapse_padding=True)
    for column in ("Lane", "Old", "New", "Old best", "New best", ""):
        table.add_column(column, justify="right" if "best" in column else "left")
    for new in new_runs:
        old = old_runs[new.info.run_id]
        same = old.outcome == new.outcome and old.turns == new.turns and old.scores == new.scores
        # the name as every other view shows it: "(sim)", and "#2" when two lanes share a name
        table.add_row(
            Text(labels[new.info.run_id]),
            _short(old),
            _short(new),
            f"{old.best_score:.0%}",
            f"{new.best_score:.0%}",
            "same" if same else "changed",
        )
    console.print(table)
    console.print(f"trace: {folder}", markup=False, soft_wrap=True)
