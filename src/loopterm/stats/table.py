"""The results table of one race (the same table in --plain, the TUI and replays)."""

from __future__ import annotations

from copy import copy

from rich import box
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.table import Table
from rich.text import Text

from loopterm.events import Outcome
from loopterm.sanitize import visible
from loopterm.stats.runs import RunSummary
from loopterm.words import (
    OUTCOME_LABELS,
    display_name,
    fmt_cost,
    fmt_percent,
    fmt_seconds,
    fmt_tokens,
    ordinal,
    outcome_label,
    without_name,
)
from loopterm.words import outcome_text as _outcome_text

# The display words live in loopterm.words; these stay importable from here for the
# viewer, which imports them from this module.
__all__ = ["OUTCOME_LABELS", "fmt_cost", "fmt_tokens", "ordinal"]


def outcome_text(run: RunSummary) -> str:
    """ "PASS in 6.2 s after 2 turns", "THRASH after 5 turns", ... for panes, lines and tables
    (see :func:`loopterm.words.outcome_text`)."""
    return _outcome_text(run.outcome, run.turns, run.time_to_pass_s, run.reason, run.info.name)


RESULT_COLUMNS: tuple[str, ...] = ("#", "Lane", "Class", "Outcome", "Turns", "To pass", "Best", "Tokens", "Cost")
_RIGHT = {"Turns", "To pass", "Best", "Tokens", "Cost"}


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
    rows: list[tuple[str, ...]] = []
    for run in in_place_order(runs):
        rows.append(
            (
                ordinal(run.place) if run.place else "-",
                labels[run.info.run_id],
                run.info.lane_class or "-",
                outcome_label(run.outcome),
                str(run.turns),
                fmt_seconds(run.time_to_pass_s),
                fmt_percent(run.best_score),
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
    return without_name(run.reason, run.info.name)


def error_lines(runs: list[RunSummary]) -> list[str]:
    """'name: reason' for every lane that ended in ERROR (the table's caption), shown safely."""
    labels = run_labels(runs)
    return [f"{labels[r.info.run_id]}: {visible(error_reason(r))}" for r in runs if r.outcome == Outcome.ERROR]


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
        """The table itself; its title and the ERROR reasons go above and below it (see ``framed``)."""
        table = Table(header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
        keep = [RESULT_COLUMNS.index(c) for c in columns]
        for column in columns:
            table.add_column(column, justify="right" if column in _RIGHT else "left", no_wrap=True, overflow="ellipsis")
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
        yield from framed(self.fitted(console, options.max_width), self.title, error_lines(self.runs))


def framed(table: Table, title: str | None, notes: list[str]) -> RenderResult:
    """``title``, ``table``, then ``notes``: the words at the width they are printed in.

    Not the table's own title and caption: rich wraps those at the table's
    width, so a cast 140 columns wide kept an ERROR reason in an 80-column block.
    Text, not str: a lane's name or reason is never read as rich markup ("[red]...").
    """
    if title:
        yield Text(title, style="table.title")
    yield table
    if notes:
        yield Text("\n".join(notes), style="table.caption")


def race_table(runs: list[RunSummary], title: str | None = None) -> RaceTable:
    """The results table; lanes that ended in ERROR get their reason as a caption."""
    return RaceTable(runs, title)
