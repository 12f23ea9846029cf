"""The results table of one race (the same table in --plain, the TUI and replays)."""

from __future__ import annotations

from copy import copy

from rich import box
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from loopterm.naming import display_name, plural
from loopterm.sanitize import visible
from loopterm.stats.runs import RunSummary


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def fmt_s(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds:.1f} s"


def fmt_cost(cost: float | None) -> str:
    if cost is None:
        return "n/a"
    if cost == 0:
        return "$0"
    return f"${cost:.4f}" if cost < 1 else f"${cost:.2f}"


OUTCOME_LABELS = {
    "PASS": "PASS",
    "THRASH": "THRASH",
    "TURN_LIMIT": "turn limit",
    "BUDGET": "budget",
    "ERROR": "ERROR",
    "ABORTED": "aborted",
}


def outcome_text(run: RunSummary) -> str:
    """"PASS in 6.2 s after 2 turns", "THRASH after 5 turns", ... for panes and tables.

    An ERROR's reason (a provider's or server's words) has its control characters made visible.
    """
    if run.outcome is None:
        return "running"
    turns = plural(run.turns, 'turn')
    if run.outcome == "PASS":
        return f"PASS in {fmt_s(run.time_to_pass_s)} after {turns}"
    if run.outcome == "TURN_LIMIT":
        return f"turn limit after {turns}"
    if run.outcome == "BUDGET":
        return f"budget used up after {turns}"
    if run.outcome == "ERROR":
        return f"ERROR: {visible(run.reason)}"
    return f"{run.outcome} after {turns}"


RESULT_COLUMNS = ("#", "Lane", "Class", "Outcome", "Turns", "To pass", "Best", "Tokens", "Cost")
_RIGHT = {"Turns", "To pass", "Best", "Tokens", "Cost"}


def fmt_tokens(tokens: int, estimated: bool = False) -> str:
    """1234 -> 1.2k; a trailing ~ marks counts estimated from characters."""
    text = f"{tokens / 1000:.1f}k" if tokens >= 1000 else str(tokens)
    return text + ("~" if estimated else "")


def run_labels(runs: list[RunSummary]) -> dict[str, str]:
    """Each run's name for people: "(sim)" when simulated, numbered "#2" in race order
    when several runs share a name (the same numbers the viewer's panes show); a lanes
    file's name has its control characters made visible."""
    labels: dict[str, str] = {}
    for run in runs:
        # numbered by the raw name, as RaceState.display_name numbers the panes
        same = [other.info.run_id for other in runs if other.info.name == run.info.name]
        name = visible(display_name(run.info.name, run.info.simulated))
        labels[run.info.run_id] = name if len(same) == 1 else f"{name} #{same.index(run.info.run_id) + 1}"
    return labels


def in_place_order(runs: list[RunSummary]) -> list[RunSummary]:
    """The results table's row order: finishers first by place, then the rest in race order."""
    return sorted(runs, key=lambda r: (r.place is None, r.place or 0))


def result_rows(runs: list[RunSummary]) -> list[tuple[str, ...]]:
    """Rows of the results table as plain strings, finishers first by place."""
    labels = run_labels(runs)
    rows = []
    for run in in_place_order(runs):
        rows.append(
            (
                ordinal(run.place) if run.place else "-",
                labels[run.info.run_id],
                run.info.lane_class or "-",
                OUTCOME_LABELS.get(run.outcome or "", "running"),
                str(run.turns),
                fmt_s(run.time_to_pass_s),
                f"{run.best_score:.0%}",
                fmt_tokens(run.tokens, run.tokens_estimated),
                fmt_cost(run.cost),
            )
        )
    return rows


# Dropped in this order when the terminal is too narrow for every column: the
# lane's name, its outcome and its place are what the table is for.
DROP_ORDER = ("Class", "Cost", "Tokens", "Turns", "Best", "To pass", "#")


def error_reason(run: RunSummary) -> str:
    """An ERROR lane's reason without a leading copy of the lane's own name."""
    reason = run.reason
    prefix = f"{run.info.name}: "
    return reason[len(prefix):] if reason.startswith(prefix) else reason


def error_lines(runs: list[RunSummary]) -> list[str]:
    """'name: reason' for every lane that ended in ERROR (the table's caption), shown safely."""
    labels = run_labels(runs)
    return [f"{labels[r.info.run_id]}: {visible(error_reason(r))}" for r in runs if r.outcome == "ERROR"]


def natural_width(console: Console, table: Table) -> int:
    """The widest line of ``table`` given all the room it wants (its measure ignores collapsed padding)."""
    table = copy(table)
    table.title = table.caption = None
    lines = console.render_lines(table, console.options.update(width=1000, height=None), pad=False)
    return max((Segment.get_line_length(line) for line in lines), default=0)


class RaceTable:
    """The results table, fitted to the width it is printed in.

    No cell ever wraps (a wrapped lane name turned into a column of ``…``):
    when the terminal is too narrow for every column, whole columns are left
    out, least important first (``DROP_ORDER``), and only when just the lane,
    its outcome and nothing else still do not fit is the name cut.
    """

    def __init__(self, runs: list[RunSummary], title: str | None = None) -> None:
        self.runs = runs
        self.title = title

    def table(self, columns: tuple[str, ...] = RESULT_COLUMNS) -> Table:
        errors = error_lines(self.runs)
        table = Table(
            title=self.title,
            title_justify="left",
            header_style="bold",
            box=box.SIMPLE_HEAD,
            # Text, not str: a lane's name or reason is never read as rich markup ("[red]...").
            caption=Text("\n".join(errors), style="table.caption") if errors else None,
            caption_justify="left",
            pad_edge=False,
            collapse_padding=True,
        )
        keep = [RESULT_COLUMNS.index(c) for c in columns]
        for column in columns:
            table.add_column(column, justify="right" if column in _RIGHT else "left", no_wrap=True,
                             overflow="ellipsis")
        for row in result_rows(self.runs):
            table.add_row(*(Text(row[i]) for i in keep))
        return table

    def fitted(self, console: Console, width: int) -> Table:
        columns = RESULT_COLUMNS
        for drop in DROP_ORDER:
            table = self.table(columns)
            if natural_width(console, table) <= width:
                return table
            columns = tuple(c for c in columns if c != drop)
        return self.table(columns)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield self.fitted(console, options.max_width)


def race_table(runs: list[RunSummary], title: str | None = None) -> RaceTable:
    """The results table; lanes that ended in ERROR get their reason as a caption."""
    return RaceTable(runs, title)
