"""``loopterm export``: a stored race as a file for elsewhere (an asciinema cast)."""

from __future__ import annotations

import argparse
from pathlib import Path

from loopterm.cli import UsageError
from loopterm.commands.common import positive_float, positive_int

FORMATS = ["cast"]


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "export",
        help="export a stored race (asciinema cast of its plain replay)",
        description=(
            "Write a stored race as an asciinema v2 cast of its plain replay, with the recorded timing, "
            "to embed in a web page or a slide deck (asciinema-player, `asciinema play`). "
            "The newest race when no ID is given; the file goes into the race folder unless -o is given."
        ),
    )
    p.add_argument("ref", nargs="?", metavar="ID|PATH", help="race id, unique prefix, or trace path")
    p.add_argument("--format", choices=FORMATS, default="cast", help="output format (default: cast)")
    p.add_argument("-o", "--output", type=Path, help="output file (default: <race folder>/race.cast)")
    p.add_argument("--width", type=positive_int, default=100, help="terminal columns of the cast (default 100)")
    p.add_argument("--speed", type=positive_float, default=1.0, help="play the cast this many times faster")
    p.add_argument("--trace-dir", type=Path, help="the traces dir (default: loopterm's cache dir)")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from loopterm.commands.replay import load_trace
    from loopterm.plain.cast import write_cast

    if args.width < 40:
        raise UsageError(f"--width: a cast needs at least 40 columns, not {args.width}")
    trace = load_trace(args.ref, args.trace_dir)
    output = _output(args.output, trace.folder, trace.race_id)
    try:
        path = write_cast(trace, output, width=args.width, speed=args.speed)
    except OSError as exc:
        where = output or trace.folder
        raise UsageError(f"{where}: cannot write the cast ({exc.strerror}); pick another file with -o") from None
    print(f"wrote {path}")
    return 0


def _output(output: Path | None, folder: Path, race_id: str) -> Path | None:
    """Where the cast goes (None: the default, ``<race folder>/race.cast``); UsageError for a bad place.

    A cast never goes into a race folder except as that race's own ``race.cast``
    (``-o <race>/race.json`` would overwrite the recorded header), and never over
    an existing file that is not a ``.cast``.
    """
    from loopterm.plain.cast import CAST_NAME
    from loopterm.traces.store import is_trace_folder

    if output is None:
        return None
    own = folder.resolve()
    if output.is_dir():
        if output.resolve() == own:
            return folder / CAST_NAME
        output = output / f"{race_id}.cast"
    parent = output.parent.resolve()
    if is_trace_folder(parent) and not (parent == own and output.name == CAST_NAME):
        raise UsageError(
            f"{output}: is inside the race folder {parent}; a cast goes there only as that race's own "
            f"{CAST_NAME} (the default): pick a file outside race folders with -o"
        )
    if output.exists() and output.suffix != ".cast":
        raise UsageError(f"{output}: exists and is not a .cast file; not overwriting it: pick another file with -o")
    return output
