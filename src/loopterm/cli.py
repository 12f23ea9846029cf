"""The ``loopterm`` command: argparse, one module per subcommand.

Each module in ``loopterm.commands`` exposes ``add_parser(subparsers)`` and a
``run(args) -> int``; heavy imports (Textual, SDKs) happen inside ``run`` so
``loopterm --help`` stays fast. Exit codes: ``loopterm.exits``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import NoReturn

from loopterm import __version__
from loopterm.exits import Exit

# Order is the order of `loopterm --help`.
COMMANDS = ["race", "bench", "report", "replay", "traces", "rescore", "export", "validate", "lanes", "doctor"]


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (no usage dump) and exit code 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="loopterm",
        description="Race LLM coding loops: a fast model in a tight feedback loop vs a smart, slow one.",
    )
    parser.add_argument("--version", action="version", version=f"loopterm {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        module = importlib.import_module(f"loopterm.commands.{name}")
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        return _main(argv)
    except KeyboardInterrupt:  # Ctrl-C at any moment, even while the commands are still being imported
        print("loopterm: interrupted", file=sys.stderr)
        return Exit.INTERRUPTED


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "run", None):
        parser.print_help()
        return Exit.USAGE
    try:
        return int(args.run(args) or 0)
    except UsageError as exc:
        from loopterm.sanitize import visible

        # It may quote a lanes file, a trace or a server: its control characters are shown, never sent.
        print(f"loopterm: error: {visible(str(exc), multiline=True)}", file=sys.stderr)
        return Exit.USAGE
    except KeyboardInterrupt:
        print("loopterm: interrupted", file=sys.stderr)
        return Exit.INTERRUPTED
    except BrokenPipeError:  # `loopterm report | head`: stop quietly, as other tools do
        from loopterm.plain.console import with_devnull

        with_devnull(sys.stdout)
        return Exit.OUTPUT_CLOSED


if __name__ == "__main__":
    sys.exit(main())
