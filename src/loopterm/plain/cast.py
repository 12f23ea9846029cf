"""Export a race as an asciinema v2 cast of its plain replay.

The cast is what ``loopterm replay --plain`` prints, with the recorded
timing: each event goes through the same printer (:mod:`loopterm.plain.replay`: the race
printer, or the bench progress printer and table for a bench), rendered by a rich
Console into a string buffer at a fixed width (a cast has one terminal size),
and whatever it printed becomes one ``[time, "o", text]`` line at the event's
``t``. A cast file is a JSON header line followed by those lines.

The printers make every control character in the race's own text visible
(see :mod:`loopterm.sanitize`), so a player replays only the colours rich
drew, never an escape sequence a model or a candidate wrote.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from loopterm.plain.replay import plain_printer
from loopterm.sanitize import visible
from loopterm.traces.reader import RaceTrace

DEFAULT_WIDTH = 100
MIN_HEIGHT = 10
MAX_HEIGHT = 60
CAST_NAME = "race.cast"


@dataclass
class Cast:
    header: dict[str, Any]
    frames: list[tuple[float, str]]  # (seconds since the start, terminal output)

    def text(self) -> str:
        lines = [json.dumps(self.header, ensure_ascii=False)]
        lines += [json.dumps([round(t, 6), "o", data], ensure_ascii=False) for t, data in self.frames]
        return "\n".join(lines) + "\n"


def _timestamp(started_at: str) -> int | None:
    try:
        return int(datetime.fromisoformat(started_at.replace("Z", "+00:00")).timestamp())
    except ValueError:
        return None


def render_cast(trace: RaceTrace, *, width: int = DEFAULT_WIDTH, speed: float = 1.0, colour: bool = True) -> Cast:
    """The cast of ``trace``'s plain replay, ``speed`` times faster than recorded."""
    if width < 40:
        raise ValueError(f"a cast needs at least 40 columns, not {width}")
    if speed <= 0:
        raise ValueError(f"speed must be above 0, not {speed:g}")
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        width=width,
        force_terminal=colour,
        no_color=not colour,
        color_system="256" if colour else None,
        highlight=False,
        emoji=False,
        legacy_windows=False,
    )
    # every line must fit the cast's width; a bench prints as `bench --plain` did (see plain.replay)
    printer = plain_printer(trace.started, console, wrap=True)
    start = trace.events[0].t
    frames: list[tuple[float, str]] = []
    last = 0.0
    lines = 0
    for event in trace.events:
        printer(event)
        out = buffer.getvalue()
        if not out:
            continue
        buffer.seek(0)
        buffer.truncate()
        lines += out.count("\n")
        # Terminals move to column 0 on CR; a cast replays raw terminal output.
        data = out.replace("\r\n", "\n").replace("\n", "\r\n")
        at = max(last, (event.t - start) / speed)  # monotonic even for a hand-edited trace
        if frames and at == frames[-1][0]:
            frames[-1] = (at, frames[-1][1] + data)
        else:
            frames.append((at, data))
        last = at
    started = trace.started
    header: dict[str, Any] = {
        "version": 2,
        "width": width,
        "height": min(max(lines + 1, MIN_HEIGHT), MAX_HEIGHT),
        # A player shows the title: its ids come from the trace, so their controls are made visible.
        "title": visible(f"loopterm {started.kind} {started.race_id} · {started.task_id}")
        + (" (aborted)" if trace.status == "aborted" else ""),
        "env": {"TERM": "xterm-256color"},
    }
    stamp = _timestamp(started.started_at)
    if stamp is not None:
        header["timestamp"] = stamp
    if frames:
        header["duration"] = round(frames[-1][0], 6)
    return Cast(header, frames)


def write_cast(trace: RaceTrace, path: Path | None = None, **options: object) -> Path:
    """Write the cast (default ``<race folder>/race.cast``) and return its path."""
    path = path or trace.folder / CAST_NAME
    cast = render_cast(trace, **options)  # type: ignore[arg-type]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(cast.text(), encoding="utf-8")
    tmp.replace(path)
    return path
