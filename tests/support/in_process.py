"""``loopterm ARGS`` run inside the test process: ``loopterm.cli.main`` with its output captured.

A child ``python -m loopterm`` costs an interpreter start and every import
(about a second of CPU on a small machine); calling the entry point costs
neither. What a user sees is the same: the exit code, stdout and stderr,
read at the file-descriptor level (``capfd``), so output that a child of the
command (the sandbox) wrote to the terminal would show up too.

Tests whose point is a signal, a pipe, a pty or a fresh interpreter's imports
still start a real process.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import AnyStr, Generic

import pytest

from loopterm.cli import main


@dataclass
class Ran(Generic[AnyStr]):
    """What ``subprocess.run(..., capture_output=True)`` would have returned: text with
    ``capfd``, bytes with ``capfdbinary``."""

    args: list[str]
    returncode: int
    stdout: AnyStr
    stderr: AnyStr


# conftest's ``loopterm_main`` fixture: ``loopterm_main("race", "--json", env={...}, cwd=...)``.
LoopTerm = Callable[..., Ran[str]]


@contextlib.contextmanager
def _stdin_at_eof() -> Iterator[None]:
    """stdin as ``stdin=subprocess.DEVNULL`` gives it: not a terminal, empty."""
    saved = sys.stdin
    with open(os.devnull) as devnull:
        sys.stdin = devnull
        try:
            yield
        finally:
            sys.stdin = saved


def run_main(
    capture: pytest.CaptureFixture[AnyStr],
    monkeypatch: pytest.MonkeyPatch,
    args: Sequence[str | os.PathLike[str]],
    *,
    env: Mapping[str, str | None] | None = None,
    cwd: Path | None = None,
) -> Ran[AnyStr]:
    """Run ``loopterm *args`` in this process; ``env`` sets (or, with None, unsets) variables for the call."""
    argv = [os.fspath(a) for a in args]
    capture.readouterr()  # what came before is not this command's output
    with monkeypatch.context() as patch, _stdin_at_eof():
        for name, value in (env or {}).items():
            if value is None:
                patch.delenv(name, raising=False)
            else:
                patch.setenv(name, value)
        if cwd is not None:
            patch.chdir(cwd)
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's usage errors and --help exit
            code = 0 if exc.code is None else exc.code if isinstance(exc.code, int) else 1
    out = capture.readouterr()
    return Ran(argv, code, out.out, out.err)
