"""``loopterm traces``: list, delete and prune the stored races."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from loopterm.cli import UsageError
from loopterm.commands.common import non_negative_float
from loopterm.outcomes import Outcome
from loopterm.words import plural

if TYPE_CHECKING:
    from rich.table import Table

    from loopterm.traces.store import TraceInfo


def add_trace_dir(parser: argparse.ArgumentParser, *, nested: bool = False) -> None:
    # On subcommands the default is SUPPRESS so `traces --trace-dir D rm X` keeps D.
    parser.add_argument(
        "--trace-dir",
        type=Path,
        default=argparse.SUPPRESS if nested else None,
        help="the traces dir (default: loopterm's cache dir)",
    )


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "traces",
        help="list stored races; rm or prune them",
        description=(
            "List the stored races, newest first: id, start time, task, kind, lanes, how each lane "
            "ended, status (complete, aborted, incomplete, running, damaged, newer schema) and size. "
            "`traces rm ID` deletes one race, `traces prune --older-than DAYS` deletes old ones; both ask "
            "first unless --yes and never touch a race still running. An ID may be a unique prefix."
        ),
    )
    p.add_argument("--json", action="store_true", help="print one JSON array instead of a table")
    add_trace_dir(p)
    p.set_defaults(run=run_list)
    actions = p.add_subparsers(dest="action", metavar="ACTION")

    ls = actions.add_parser("list", help="list stored races (the default)")
    ls.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="one JSON array")
    add_trace_dir(ls, nested=True)
    ls.set_defaults(run=run_list)

    rm = actions.add_parser("rm", help="delete one stored race", description="Delete one stored race folder.")
    rm.add_argument("ref", metavar="ID", help="race id, unique id prefix, or race folder path")
    rm.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    add_trace_dir(rm, nested=True)
    rm.set_defaults(run=run_rm)

    prune = actions.add_parser(
        "prune",
        help="delete races older than some days",
        description="Delete every stored race that started more than DAYS days ago (races still running are kept).",
    )
    prune.add_argument(
        "--older-than", type=non_negative_float, required=True, metavar="DAYS", help="age in days (may be 0.5)"
    )
    prune.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    add_trace_dir(prune, nested=True)
    prune.set_defaults(run=run_prune)


def _root(args: argparse.Namespace) -> Path:
    from loopterm.paths import traces_dir

    return traces_dir(getattr(args, "trace_dir", None))


def run_list(args: argparse.Namespace) -> int:
    from loopterm.traces import store

    root = _root(args)
    races = store.list_races(root)
    if args.json:
        print(json.dumps([info.to_json() for info in races], indent=2))
        return 0
    if not races:
        print(f"no stored races in {root}; run `loopterm race` to record one")
        return 0
    from loopterm.plain.console import plain_console

    console = plain_console()
    console.print(listing_table(races, console.width))
    if console.width < FULL_TABLE_WIDTH:
        console.print(NARROW_LEGEND, markup=False, soft_wrap=True)
    console.print(f"{plural(len(races), 'race')} in {root}", markup=False, soft_wrap=True)
    return 0


# Below this many columns the full table wraps every cell; the narrow one drops
# Kind, Lanes and Size (Outcomes still counts the lanes; --json has it all) and
# shortens the rest, so 80 columns show one line per race.
FULL_TABLE_WIDTH = 112
NO_TASK_WIDTH = 72  # below this even the narrow table would cut its dates and statuses
SHORT_OUTCOMES: dict[str, str] = {
    Outcome.PASS: "PASS",
    Outcome.THRASH: "THR",
    Outcome.TURN_LIMIT: "TL",
    Outcome.BUDGET: "BUD",
    Outcome.ERROR: "ERR",
    Outcome.ABORTED: "ABT",
    "unfinished": "?",
}
NARROW_LEGEND = "THR thrash · TL turn limit · BUD budget · ERR error · ABT aborted · ? unfinished"


def listing_table(races: list[TraceInfo], width: int) -> Table:
    """The `traces` table, fitted to ``width`` columns."""
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from loopterm.sanitize import visible
    from loopterm.traces import store

    narrow = width < FULL_TABLE_WIDTH
    # No edge: SIMPLE_HEAD's top and bottom edges are lines of spaces (a blank first line).
    table = Table(box=box.SIMPLE_HEAD, header_style="bold", pad_edge=False, collapse_padding=True, show_edge=False)
    columns = (
        ["ID", "Date", "Task", "Outcomes", "Status"]
        if narrow
        else ["ID", "Date", "Task", "Kind", "Lanes", "Outcomes", "Status", "Size"]
    )
    if width < NO_TASK_WIDTH:
        columns.remove("Task")  # rather than cut the date and status short (`--json` names it)
    for column in columns:
        table.add_column(
            column,
            justify="right" if column in ("Lanes", "Size") else "left",
            no_wrap=column in ("ID", "Date", "Size", "Task", "Status"),
            overflow="ellipsis" if column == "Task" else "fold",
            max_width=14 if narrow and column == "Task" else None,
        )
    for info in races:
        when = info.started.astimezone()
        if narrow:
            outcomes = " ".join(f"{SHORT_OUTCOMES.get(k, k)} {n}" for k, n in info.outcomes.items()) or "-"
            cells = {
                "ID": info.name,
                "Date": f"{when:%m-%d %H:%M}",
                "Task": info.task_id,
                "Outcomes": outcomes,
                "Status": info.status,
            }
            row = [cells[column] for column in columns]
        else:
            row = [
                info.name,
                f"{when:%Y-%m-%d %H:%M}",
                info.task_id,
                info.kind,
                str(len(info.lanes)),
                info.outcomes_text(),
                info.status,
                store.human_size(info.size),
            ]
        # A race.json can say anything: shown as plain text (no rich markup), controls made visible.
        table.add_row(*(Text(visible(cell)) for cell in row))
    return table


def confirm(question: str, yes: bool) -> bool:
    """True when --yes, or when the person at the terminal says yes; never guesses off a TTY."""
    if yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError("not deleting without confirmation: stdin is not a terminal; add --yes to delete")
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        answer = ""
    return answer.strip().lower() in ("y", "yes")


def run_rm(args: argparse.Namespace) -> int:
    from loopterm.sanitize import visible
    from loopterm.traces import store

    root = _root(args)
    try:
        folder = store.deletable(store.resolve(args.ref, root), root)
    except store.StoreError as exc:
        raise UsageError(str(exc)) from None
    info = store.read_info(folder)
    if info.live():
        raise UsageError(str(store.live_error(folder, info.writer)))
    what = "damaged race" if info.status == "damaged" else "race"
    # The task id comes from the race.json: shown with its control characters made visible.
    summary = visible(f"{info.name} ({info.task_id}, {len(info.lanes)} lanes, {store.human_size(info.size)})")
    if not confirm(f"delete {what} {summary}?", args.yes):
        print("nothing deleted")
        return 1
    try:
        store.remove(folder, root)  # checks the lock again, holding it while it deletes
    except store.StoreError as exc:
        raise UsageError(str(exc)) from None
    print(f"deleted {folder}")
    return 0


def run_prune(args: argparse.Namespace) -> int:
    from loopterm.sanitize import visible
    from loopterm.traces import store

    root = _root(args)
    old = store.older_than(root, args.older_than)
    if not old:
        print(f"no races older than {args.older_than:g} days in {root}")
        return 0
    size = sum(info.size for info in old)
    for info in old:
        print(visible(f"{info.name}  {info.started.astimezone():%Y-%m-%d %H:%M}  {info.task_id}  {info.status}"))
    question = f"delete these {plural(len(old), 'race')} ({store.human_size(size)})?"
    if not confirm(question, args.yes):
        print("nothing deleted")
        return 1
    kept = 0
    for info in old:
        try:
            store.remove(info.folder, root)
        except store.StoreError as exc:  # started writing since the listing (a race resumed by id?): kept
            print(f"loopterm: warning: {visible(str(exc))}", file=sys.stderr)
            kept += 1
            size -= info.size
    deleted = len(old) - kept
    print(f"deleted {plural(deleted, 'race')} ({store.human_size(size)}) from {root}")
    return 0
