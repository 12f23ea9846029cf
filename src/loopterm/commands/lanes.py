"""``loopterm lanes``: which lanes exist and whether each can run here."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from loopterm.cli import UsageError
from loopterm.commands.common import positive_float
from loopterm.sanitize import visible

OLLAMA_PATTERN = "ollama:<model>"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "lanes",
        help="list presets and your lanes, and whether each is ready",
        description=(
            "List the built-in presets, the simulated profiles and the lanes in your lanes file, "
            "with whether each is ready to run here: its key variable is set, its local server "
            "answers, the local extra is installed. Keys are never printed. --check sends one tiny "
            "real request to each ready lane."
        ),
    )
    p.add_argument("names", nargs="*", metavar="LANE", help="only these lanes (preset, provider:model or name)")
    p.add_argument(
        "--lanes", dest="lanes_file", type=Path, help="a lanes TOML file (default: lanes.toml in your config dir)"
    )
    p.add_argument("--check", action="store_true", help="send one tiny request to each ready lane")
    p.add_argument(
        "--timeout", type=positive_float, default=30.0, help="seconds each --check request may take (default 30)"
    )
    p.add_argument("--json", action="store_true", help="print one JSON array instead of a table")
    p.set_defaults(run=run)


def _rows(args: argparse.Namespace) -> tuple[list[dict[str, Any]], int]:
    """The rows to list, and how many lanes the lanes file holds."""
    from loopterm import lanes as lanes_mod

    try:
        file_lanes = lanes_mod.load_user_lanes(args.lanes_file)
        lanes_mod.ollama_url()  # a bad $OLLAMA_HOST is one line here, not a traceback later
    except lanes_mod.LaneError as exc:
        raise UsageError(str(exc)) from None
    rows: list[dict[str, Any]] = []

    def add(ref: str, source: str, lane: lanes_mod.Lane | None, **extra: Any) -> None:
        rows.append({"ref": ref, "source": source, "lane": lane, **extra})

    if args.names:
        for name in args.names:
            try:
                lane = lanes_mod.resolve(name, file_lanes)
            except lanes_mod.LaneError as exc:
                raise UsageError(str(exc)) from None
            add(name, "file" if name in file_lanes else "named", lane)
        return rows, len(file_lanes)
    for ref, lane in lanes_mod.PRESETS.items():
        if ref not in file_lanes:  # a file lane of the same name is what that name runs
            add(ref, "preset", lane)
    add(OLLAMA_PATTERN, "preset", None)
    from loopterm.lanes.sims import PROFILES

    for name, profile in PROFILES.items():
        add(f"sim:{name}", "sim", profile.lane())
    for name, lane in file_lanes.items():
        add(name, "file", lane)
    return rows, len(file_lanes)


async def _fill(rows: list[dict[str, Any]], check: bool, timeout_s: float) -> None:
    import asyncio

    from loopterm.lanes import ollama_url, safe_url
    from loopterm.providers import readiness as rd

    async def one(row: dict[str, Any]) -> None:
        lane = row["lane"]
        if lane is None:  # the ollama:<model> pattern: only the server can be ready
            url = ollama_url()
            shown = safe_url(url)
            up = await rd.tcp_probe(url)
            row["ready"] = up
            row["detail"] = f"server up at {shown}" if up else f"cannot reach {shown}: is Ollama running?"
            return
        state = await rd.readiness(lane)
        row["ready"], row["detail"] = state.ready, state.detail
        if check and state.ready and not lane.simulated:
            gen = await rd.check(lane, timeout_s)
            row["check"] = {
                "ok": gen.error is None,
                "error_kind": gen.error_kind.value if gen.error_kind else None,
                "error": gen.error,
                "ttft_s": gen.ttft_s,
                "generation_s": gen.generation_s,
                "text": gen.text[:80],
            }

    if check:
        # Import the SDKs first: an import inside the gather stalls the loop
        # and inflates the time to first token of whichever checks are running.
        from loopterm import providers

        providers.preload(row["lane"].provider for row in rows if row["lane"] is not None)
    await asyncio.gather(*(one(row) for row in rows))


def _as_json(row: dict[str, Any]) -> dict[str, Any]:
    from loopterm.lanes import ollama_url, safe_url

    lane = row["lane"]
    out: dict[str, Any] = {"lane": row["ref"], "source": row["source"]}
    if lane is None:
        # The same keys as a lane's row, so a script can read every row alike.
        out |= {
            "name": OLLAMA_PATTERN,
            "provider": "ollama",
            "model": "<model>",
            "class": "L/AR",
            "base_url": safe_url(ollama_url()),
            "api_key_env": None,
        }
    else:
        out |= {
            "name": lane.name,
            "provider": lane.provider,
            "model": lane.model,
            "class": lane.lane_class,
            "base_url": lane.shown_url,
            "api_key_env": lane.api_key_env,
        }
    out |= {"ready": row["ready"], "detail": row["detail"]}
    if "check" in row:
        out["check"] = row["check"]
    return out


def _check_cell(row: dict[str, Any]) -> tuple[str, str]:
    check = row.get("check")
    if check is None:
        return ("-", "")
    if check["ok"]:
        ttft = check["ttft_s"]
        return ("ok", f"{ttft:.2f}s" if ttft is not None else "no text")
    return (check["error_kind"] or "error", "")


# Columns a narrow terminal drops first, in order; LANE, MODEL, CLASS, READY
# (and the check's result) always stay.
_DROPPABLE = ("SOURCE", "PROVIDER")
_DETAIL_INDENT = "    "


def _table(rows: list[dict[str, Any]], check: bool, width: int = 120) -> str:
    """The listing fitted to ``width`` columns.

    One line a lane when the details fit beside the columns (SOURCE may go
    for it); otherwise each detail goes on the lines under its lane, wrapped
    (a failed check's error is long), and SOURCE then PROVIDER go only when
    the columns alone do not fit.

    Names and models come from a lanes file, details and check errors from
    servers: every cell shows its control characters visibly (``^[``).
    """
    import textwrap

    header = ["LANE", "PROVIDER", "MODEL", "CLASS", "SOURCE", "READY"]
    if check:
        header += ["CHECK", "TTFT"]
    table: list[tuple[dict[str, str], str]] = []
    for row in rows:
        item = _as_json(row)
        values = [
            visible(cell)
            for cell in (
                item["lane"],
                item["provider"],
                item["model"],
                item["class"] or "-",
                item["source"],
                "yes" if item["ready"] else "no",
            )
        ]
        detail = item["detail"]
        if check:
            values += list(_check_cell(row))
            if row.get("check") and not row["check"]["ok"]:
                detail = row["check"]["error"] or detail
        table.append((dict(zip(header, values, strict=True)), visible(detail)))

    def fixed(columns: list[str]) -> tuple[list[int], int]:
        widths = [max([len(name)] + [len(cells[name]) for cells, _ in table]) for name in columns]
        return widths, sum(widths) + 2 * len(widths)

    def line(values: list[str], widths: list[int], detail: str = "") -> str:
        return "  ".join(value.ljust(size) for value, size in zip(values, widths, strict=True)) + "  " + detail

    layouts = [header, *[[c for c in header if c not in _DROPPABLE[: n + 1]] for n in range(len(_DROPPABLE))]]
    longest = max([len("DETAIL")] + [len(detail) for _, detail in table])
    for columns in layouts[:2]:  # one line a lane is worth SOURCE, not PROVIDER too
        widths, used = fixed(columns)
        if used + longest <= width:
            lines = [line(columns, widths, "DETAIL")]
            lines += [line([cells[c] for c in columns], widths, detail) for cells, detail in table]
            return "\n".join(lines)
    # The details go under their lanes: keep the most columns that fit on one line.
    fitting = next((c for c in layouts if fixed(c)[1] - 2 <= width), None)
    columns = layouts[-1] if fitting is None else fitting
    if fitting is None:
        # Still too wide: a long model (a .gguf path) keeps its end, where its name is.
        _widths, used = fixed(columns)
        room = max(12, max(len(cells["MODEL"]) for cells, _ in table) - (used - 2 - width))
        for cells, _detail in table:
            if len(cells["MODEL"]) > room:
                cells["MODEL"] = "..." + cells["MODEL"][-(room - 3) :]  # ASCII: plain output everywhere
    widths, _used = fixed(columns)
    wrap = max(20, width - len(_DETAIL_INDENT))
    lines = [line(columns, widths).rstrip()]
    for cells, detail in table:
        lines.append(line([cells[c] for c in columns], widths).rstrip())
        lines += [_DETAIL_INDENT + part for part in textwrap.wrap(detail, wrap, break_on_hyphens=False)]
    return "\n".join(lines)


def _where_lanes_file(given: Any, count: int, width: int = 120) -> str:
    """Where lanes of your own go, and whether that file exists (the table alone never said).

    On one line when it fits ``width``, else the path on a line of its own.
    """
    from loopterm.paths import lanes_file
    from loopterm.words import plural

    path = given if given is not None else lanes_file()
    if count:
        note = plural(count, "lane")
    elif given is None and not path.is_file():
        note = "none yet; add [[lanes]] tables there, see the README"
    else:
        note = "no lanes"
    shown = visible(str(path))
    line = f"lanes file: {shown} ({note})"
    return line if len(line) <= width else f"lanes file ({note}):\n  {shown}"


def _width() -> int:
    """The terminal's columns; 120 off a terminal, as the other plain listings."""
    import shutil

    return shutil.get_terminal_size((120, 24)).columns


def run(args: argparse.Namespace) -> int:
    import asyncio

    rows, in_file = _rows(args)
    asyncio.run(_fill(rows, args.check, args.timeout))
    if args.json:
        print(json.dumps([_as_json(row) for row in rows], indent=2))
    else:
        width = _width()
        print(_table(rows, args.check, width))
        print(_where_lanes_file(args.lanes_file, in_file, width))
    if args.check and not any("check" in row for row in rows) and all(row["ready"] for row in rows):
        import sys

        print(
            "loopterm: nothing was checked: simulated lanes need no check and no other lane is ready (see DETAIL)",
            file=sys.stderr,
        )
    failed = any(row.get("check") and not row["check"]["ok"] for row in rows)
    # A lane named for --check that could not even be tried did not pass it:
    # `lanes --check mercury-2 && race ...` must not go ahead without a key.
    unchecked = [row["ref"] for row in rows if args.check and args.names and not row["ready"]]
    if unchecked:
        import sys

        print(f"loopterm: not checked (not ready, see DETAIL): {visible(', '.join(unchecked))}", file=sys.stderr)
    return 1 if failed or unchecked else 0
