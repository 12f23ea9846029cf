"""``loopterm doctor``: which sandbox layers this machine gives a candidate, and what is missing."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import TYPE_CHECKING

from loopterm.cli import UsageError

if TYPE_CHECKING:
    from loopterm.sandbox.doctor import Diagnosis, Item, Layer

ENV_SIMULATE = "LOOPTERM_DOCTOR_SIMULATE"  # the same name as loopterm.sandbox.doctor's, without importing it
STATUS_WIDTH = len("missing")
MIN_TEXT = 32  # below this the text goes under the name instead of beside it


DESCRIPTION = (
    "Probe each layer of the sandbox on this machine, for real, in short-lived test processes: "
    "resource limits, the folder quota (a private tmpfs), Landlock (file rules, TCP, signal scopes), "
    "seccomp, the audit hook and the process layout. For each it says whether it is active, missing "
    "or partial, what it enforces, and for a missing one what a candidate could then do. "
    "Exit 0 when every layer is active, 1 when any is missing or partial, 2 on bad input."
)
EPILOG = (
    f"Diagnostic switch: {ENV_SIMULATE}=no-landlock,landlock-abi=N,no-seccomp,no-namespaces "
    "(any of them, comma-separated) shows the report a lesser machine would get, by taking the layer "
    "away in the probe processes; the output says it is simulated."
)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    import textwrap

    def fill(text: str) -> str:  # argparse would break "no-seccomp" at its hyphen
        return textwrap.fill(text, 78, break_on_hyphens=False)

    p = sub.add_parser(
        "doctor",
        help="report which sandbox layers are active on this machine",
        description=fill(DESCRIPTION),
        epilog=fill(EPILOG),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="print one JSON object instead of the report")
    p.set_defaults(run=run)


def _wrap(text: str, width: int) -> list[str]:
    import textwrap

    return textwrap.wrap(text, max(width, 10), break_on_hyphens=False) or [""]


def _entry_lines(
    name: str, status: str, enforces: str, found: str | None, risk: str | None, name_w: int, width: int, indent: str
) -> list[str]:
    """One layer or item: name, status and what it enforces; when not active, what was found and the risk.

    ``found`` is None for a layer whose items say what was found.
    """
    paragraphs = [enforces]
    if status != "active" and found is not None:
        paragraphs.append(f"found: {found}")
        if risk:
            paragraphs.append(f"risk: {risk}")
    text_col = name_w + 2 + STATUS_WIDTH + 2
    if width - text_col >= MIN_TEXT:
        lines: list[str] = []
        head = f"{(indent + name).ljust(name_w)}  {status.ljust(STATUS_WIDTH)}  "
        for paragraph in paragraphs:
            for line in _wrap(paragraph, width - text_col):
                lines.append((head if not lines else " " * text_col) + line)
        return lines
    # A narrow terminal: the name and status on one line, the text under them.
    under = indent + "    "
    lines = [f"{indent}{name}  {status}"]
    for paragraph in paragraphs:
        lines += [under + line for line in _wrap(paragraph, width - len(under))]
    return lines


def render(diagnosis: Diagnosis, width: int = 120) -> str:
    """The report fitted to ``width`` columns, in plain ASCII."""
    from loopterm.sanitize import visible

    info = diagnosis.platform
    who = "root" if info["root"] else "not root"
    where = (
        f"{info['system']} {info['release']} {info['machine']}, {who}, Python {info['python']}, "
        f"Landlock ABI {info['landlock_abi']}"
    )
    lines = _wrap(f"loopterm doctor: the sandbox on this machine ({where})", width)
    if diagnosis.simulated:
        lines += _wrap(
            f"SIMULATED ({ENV_SIMULATE}={','.join(diagnosis.simulated)}): not this machine's real report", width
        )
    lines.append("")
    entries: list[tuple[Layer | Item, str]] = []
    for layer in diagnosis.layers:
        entries.append((layer, ""))
        entries += [(item, "  ") for item in layer.items]
    name_w = max(len(indent + entry.name) for entry, indent in entries)
    for entry, indent in entries:
        found = None if getattr(entry, "items", ()) else entry.found
        lines += _entry_lines(entry.name, entry.status, entry.enforces, found, entry.risk, name_w, width, indent)
    lines.append("")
    total = len(diagnosis.layers)
    short = [layer for layer in diagnosis.layers if layer.status != "active"]
    if not short:
        lines += _wrap(f"all {total} layers active", width)
    else:
        named = ", ".join(f"{layer.name} ({layer.status})" for layer in short)
        lines += _wrap(f"{total - len(short)} of {total} layers active; not fully: {named}", width)
    return visible("\n".join(lines), multiline=True)


def _width() -> int:
    """The terminal's columns; 120 off a terminal, as the other plain listings."""
    import shutil

    return shutil.get_terminal_size((120, 24)).columns


def run(args: argparse.Namespace) -> int:
    from loopterm.sandbox import doctor

    try:
        sim = doctor.Simulation.parse(os.environ.get(ENV_SIMULATE, ""))
    except ValueError as exc:
        raise UsageError(f"{ENV_SIMULATE}: {exc}") from None
    diagnosis = doctor.diagnose(sim)
    if args.json:
        print(json.dumps(diagnosis.as_json(), indent=2))
    else:
        print(render(diagnosis, _width()))
    sys.stdout.flush()
    return 0 if diagnosis.ok else 1
