"""The results left in the terminal's scrollback when the viewer closes.

After a live race: the results table of what ran. After a replay that was
quit part-way, the table is the race (or bench) as recorded, not the picture
at the moment of quitting: that picture called lanes "running" that the
trace shows finished, so a line under the table says where the replay
stopped and that the table is the recording's.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from rich.console import Console

from loopterm.events import Event, RaceDone, RaceStarted
from loopterm.plain.bench import print_bench_table
from loopterm.plain.console import line_width, plain_console, print_line
from loopterm.plain.race import race_title
from loopterm.sanitize import visible
from loopterm.stats.runs import summarize
from loopterm.stats.table import race_table
from loopterm.words import fmt_seconds


def stopped_part_way(shown: Sequence[Event], recorded: Sequence[Event] | None) -> str | None:
    """ "the replay stopped at 2.3 s of 3.9 s; ..." when a replay was quit before its end, else None."""
    if recorded is None or not recorded or any(isinstance(e, RaceDone) for e in shown):
        return None
    start = recorded[0].t
    at = max((e.t for e in shown), default=start) - start
    end = max(e.t for e in recorded) - start
    return f"the replay stopped at {fmt_seconds(at)} of {fmt_seconds(end)}; the table is the trace as recorded"


def print_race_results(
    shown: Sequence[Event], *, recorded: Sequence[Event] | None = None, console: Console | None = None
) -> None:
    """The race's results table (nothing if the race never started).

    ``recorded``: a replay's whole trace; when ``shown`` stops short of it, the
    table is the recorded race and a line says where the replay stopped.
    """
    note = stopped_part_way(shown, recorded)
    events = list(recorded if note is not None and recorded is not None else shown)
    if not any(isinstance(e, RaceStarted) for e in events):
        return
    out = console or plain_console()
    out.print(race_table(summarize(events), race_title(events)))
    if note is not None:
        print_line(out, note, width=line_width(out, None))


def print_bench_results(
    shown: Sequence[Event], *, recorded: Sequence[Event] | None = None, console: Console | None = None
) -> None:
    """The bench table (and its warnings, on stderr), as :func:`print_race_results` for a bench."""
    note = stopped_part_way(shown, recorded)
    events = list(recorded if note is not None and recorded is not None else shown)
    if not events:
        return
    report = print_bench_table(console or plain_console(), [events], note=note)
    for warning in report.warnings:
        print(f"loopterm: warning: {visible(warning)}", file=sys.stderr)
