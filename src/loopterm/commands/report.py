"""``loopterm report``: the results table again, from stored races and benchmarks.

Reads traces only, through the same code ``bench`` uses at its end, so the
numbers match. Several ids merge the runs of the same lane (same name,
provider and model) into one row.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from loopterm.cli import UsageError

FORMATS = ("table", "md", "csv", "json")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "report",
        help="print the results table of stored races or benchmarks (table, md, csv, json)",
        description=(
            "Print the results table of one or more stored races or benchmarks, merging runs of "
            "the same lane. IDs are race ids, unique prefixes of them, or paths to race folders; "
            "with none, the newest stored race. Markdown is for slides and READMEs; csv and json "
            "are for scripts (json is the shape `bench --json` prints)."
        ),
    )
    p.add_argument("ids", nargs="*", metavar="ID", help="race id, unique prefix, or race folder (default: newest)")
    p.add_argument("--format", choices=FORMATS, default="table", help="output format (default: table)")
    # One name per --lanes (repeat it, or separate names with commas): a list-taking
    # option would swallow the IDs after it (`--lanes A 2026...` read the id as a lane).
    p.add_argument(
        "--lanes",
        action="append",
        type=_names,
        metavar="NAME[,NAME...]",
        help="only these lanes (name, run-id slug or provider:model, case-insensitive); "
        "repeat --lanes or separate names with commas",
    )
    p.add_argument("--trace-dir", type=Path, help="where races are stored (default: the cache dir)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from loopterm.paths import traces_dir
    from loopterm.sanitize import visible
    from loopterm.stats.aggregate import UnknownLanes, build_report
    from loopterm.stats.export import to_csv, to_json_text, to_markdown, to_rich
    from loopterm.traces.reader import TraceError, read_race

    root = traces_dir(args.trace_dir)
    folders = resolve_races(args.ids, root)
    traces = []
    for folder in folders:
        try:
            trace = read_race(folder)
        except TraceError as exc:
            raise UsageError(str(exc)) from None
        for warning in trace.warnings:
            print(f"loopterm: warning: {visible(f'{trace.race_id}: {warning}')}", file=sys.stderr)
        traces.append(trace)

    lanes = None if args.lanes is None else [name for group in args.lanes for name in group]
    try:
        report = build_report([t.events_so_far for t in traces], lanes=lanes)
    except UnknownLanes as exc:
        raise UsageError(str(exc)) from None
    for warning in report.warnings:
        print(f"loopterm: warning: {visible(warning)}", file=sys.stderr)

    if args.format == "table":
        from loopterm.plain.console import plain_console

        plain_console().print(to_rich(report))
    else:
        # md and csv show control characters made visible, json escapes them (\u001b): none reach a terminal
        render = {"md": to_markdown, "csv": to_csv, "json": to_json_text}[args.format]
        sys.stdout.write(render(report))
    return 0


def _names(text: str) -> list[str]:
    """``--lanes a,b``: the names, stripped; an empty name is a mistake."""
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise argparse.ArgumentTypeError(f"expected lane names separated by commas, got {text!r}")
    return names


def resolve_races(refs: list[str], root: Path) -> list[Path]:
    """Race folders for ids, unique id prefixes or paths; the newest race when none is given.

    The same race named twice is read once (its runs would otherwise count twice).
    """
    folders: list[Path] = []
    wanted: list[str | None] = [*refs] or [None]  # None: the newest race
    for ref in wanted:
        folder = _resolve(ref, root)
        if folder.resolve() not in {f.resolve() for f in folders}:
            folders.append(folder)
    return folders


def _resolve(ref: str | None, root: Path) -> Path:
    from loopterm.traces.store import StoreError, resolve

    try:
        return resolve(ref, root)
    except StoreError as exc:
        raise UsageError(str(exc)) from None
