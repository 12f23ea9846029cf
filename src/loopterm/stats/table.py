"""The results table of one race (the same table in --plain, the TUI and replays)."""

from __future__ import annotations

from rich import box
from rich.table import Table

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
    """"PASS in 6.2 s after 2 turns", "THRASH after 5 turns", ... for panes and tables."""
    if run.outcome is None:
        return "running"
    turns = f"{run.turns} turn{'s' if run.turns != 1 else ''}"
    if run.outcome == "PASS":
        return f"PASS in {fmt_s(run.time_to_pass_s)} after {turns}"
    if run.outcome == "TURN_LIMIT":
        return f"turn limit after {turns}"
    if run.outcome == "BUDGET":
        return f"budget used up after {turns}"
    if run.outcome == "ERROR":
        return f"ERROR: {run.reason}"
    return f"{run.outcome} after {turns}"


RESULT_COLUMNS = ("#", "Lane", "Class", "Outcome", "Turns", "To pass", "Best", "Tokens", "Cost")
_RIGHT = {"Turns", "To pass", "Best", "Tokens", "Cost"}


def fmt_tokens(tokens: int, estimated: bool = False) -> str:
    """1234 -> 1.2k; a trailing ~ marks counts estimated from characters."""
    text = f"{tokens / 1000:.1f}k" if tokens >= 1000 else str(tokens)
    return text + ("~" if estimated else "")


def result_rows(runs: list[RunSummary]) -> list[tuple[str, ...]]:
    """Rows of the results table as plain strings, finishers first by place."""
    ordered = sorted(runs, key=lambda r: (r.place is None, r.place or 0))
    rows = []
    for run in ordered:
        name = run.info.name
        if run.info.simulated and "(sim)" not in name:
            name += " (sim)"
        rows.append(
            (
                ordinal(run.place) if run.place else "-",
                name,
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


def race_table(runs: list[RunSummary], title: str | None = None) -> Table:
    """The results table; lanes that ended in ERROR get their reason as a caption."""
    errors = [f"{r.info.name}: {r.reason}" for r in runs if r.outcome == "ERROR"]
    table = Table(
        title=title,
        title_justify="left",
        header_style="bold",
        box=box.SIMPLE_HEAD,
        caption="\n".join(errors) or None,
        caption_justify="left",
        pad_edge=False,
        collapse_padding=True,
    )
    for column in RESULT_COLUMNS:
        table.add_column(column, justify="right" if column in _RIGHT else "left", no_wrap=column != "Lane")
    for row in result_rows(runs):
        table.add_row(*row)
    return table
