"""The benchmark table in four formats: terminal (rich), markdown, csv, json.

The terminal and markdown forms show two tables: the talk's columns (plus
ERROR runs), then cost, turn time and the convergence fit with its
prediction beside the measured mean time to pass; markdown adds the mean
score by turn, observed beside fitted. CSV has one row per lane with every
figure under the JSON key names; JSON is :meth:`Report.to_json`.

Names, ids and ERROR reasons come from traces, lanes files and providers: the
terminal, markdown and csv forms show their control characters made visible
(:func:`loopterm.sanitize.visible`); JSON escapes them itself (``\u001b``).
"""

from __future__ import annotations

import csv
import io
import json

from rich import box
from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.table import Table
from rich.text import Text

from loopterm.sanitize import visible
from loopterm.stats.aggregate import LaneRow, Report
from loopterm.stats.table import framed, natural_width
from loopterm.words import NA, display_name, fmt_cost, fmt_percent, fmt_seconds, fmt_tokens, plural

RESULT_COLUMNS = (
    "Lane",
    "Class",
    "Runs Passed",
    "One-shot",
    "Median Iterations",
    "Mean Time To Pass",
    "P90",
    "Best Failed Score",
    "ERROR runs",
)
DETAIL_COLUMNS = (
    "Lane",
    "Mean Time To Pass",
    "Predicted (fit)",
    "r",
    "Model s/turn",
    "Validation s/turn",
    "Tokens/run",
    "Cost/run",
    "Cost/pass",
)
CSV_FIELDS = (
    "lane",
    "class",
    "provider",
    "model",
    "runs",
    "passed",
    "errors",
    "aborted",
    "running",
    "one_shot",
    "median_iterations",
    "mean_time_to_pass_s",
    "p90_s",
    "best_failed_score",
    "fitted_r",
    "predicted_time_to_pass_s",
    "predicted_turns",
    "predicted_passes",
    "prediction_note",
    "target_score",
    "mean_model_s",
    "mean_validation_s",
    "mean_turn_s",
    "tokens_per_run",
    "tokens_estimated",
    "cost_per_run",
    "cost_per_passed_run",
    "simulated",
)
CURVE_TURNS = 10  # turns shown in the by-turn table; the JSON has them all


def fmt_number(value: float | None, digits: int = 3) -> str:
    return NA if value is None else f"{value:.{digits}f}"


def fmt_iterations(value: float | None) -> str:
    return NA if value is None else f"{value:g}"


# Short, so the cell does not wrap: "> limit" (the fitted curve passes only after the turn
# limit) and "never" (r = 0); the JSON's prediction_note says the same.
PREDICTION_CELLS = {"> limit": "> limit", "r = 0": "never"}


def fmt_prediction(row: LaneRow) -> str:
    """ "5.9 s"; "5.9 s (3/5)" when the fit predicts only some runs pass; "> limit" or "never" when none."""
    p = row.prediction
    if p.seconds is None:
        return PREDICTION_CELLS.get(p.why or "", NA)
    share = "" if p.passes == p.runs else f" ({p.passes}/{p.runs})"
    return fmt_seconds(p.seconds) + share


def lane_label(row: LaneRow, rows: list[LaneRow]) -> str:
    """The lane's name; with provider:model when two rows share a name. Safe to print."""
    label = display_name(row.lane, row.simulated)
    if sum(r.lane == row.lane for r in rows) > 1:
        label += f" [{row.provider}:{row.model}]"
    return visible(label)


def result_cells(row: LaneRow, rows: list[LaneRow]) -> tuple[str, ...]:
    return (
        lane_label(row, rows),
        row.lane_class or "-",
        f"{row.passed}/{row.runs}",
        str(row.one_shot),
        fmt_iterations(row.median_iterations),
        fmt_seconds(row.mean_time_to_pass_s),
        fmt_seconds(row.p90_s),
        fmt_percent(row.best_failed_score),
        str(row.errors),
    )


def detail_cells(row: LaneRow, rows: list[LaneRow]) -> tuple[str, ...]:
    return (
        lane_label(row, rows),
        fmt_seconds(row.mean_time_to_pass_s),
        fmt_prediction(row),
        fmt_number(row.fitted_r, 2),
        fmt_seconds(row.mean_model_s),
        fmt_seconds(row.mean_validation_s),
        fmt_tokens(row.tokens_per_run, row.tokens_estimated),
        fmt_cost(row.cost_per_run),
        fmt_cost(row.cost_per_passed_run),
    )


def curve_cells(row: LaneRow, rows: list[LaneRow], turns: int) -> tuple[str, ...]:
    cells = [lane_label(row, rows)]
    observed, fitted = row.fit.observed, row.fit.fitted
    for n in range(turns):
        if n >= len(observed):
            cells.append("")
            continue
        cells.append(f"{fmt_percent(observed[n])} / {fmt_percent(None if fitted is None else fitted[n])}")
    return tuple(cells)


def _curve_turns(report: Report) -> int:
    return min(CURVE_TURNS, max((row.fit.horizon for row in report.rows), default=0))


def describe_sources(report: Report) -> str:
    """One line naming what the table was computed from."""
    if not report.sources:
        return "no races"
    what = "benchmark" if all(s.bench for s in report.sources) else "race"
    if all(s.kind == "rescore" for s in report.sources):
        what = f"rescored {what}"
    # A race still being written says so: its figures will change.
    ids = ", ".join(s.id + (" (running)" if s.running else "") for s in report.sources)
    many = "s" if len(report.sources) > 1 else ""
    scales = sorted({s.time_scale for s in report.sources})
    sims = any(row.simulated for row in report.rows)
    extra = ""
    if sims and scales != [1.0]:
        extra = " · simulated latencies " + ", ".join(f"×{x:g}" for x in scales)
    tasks = ", ".join(sorted({s.task_id for s in report.sources}))
    turns = ", ".join(str(x) for x in sorted({s.max_turns for s in report.sources}))
    return visible(f"{what}{many} {ids} · task {tasks} · max {turns} turns{extra}")


def notes(report: Report) -> list[str]:
    """Runs left out of the figures, and why: ERROR reasons, aborted runs and runs still going, per lane."""
    lines = []
    for row in report.rows:
        label = lane_label(row, report.rows)
        if row.errors:
            reasons = "; ".join(visible(r) for r in row.error_reasons[:3]) + (
                "; ..." if len(row.error_reasons) > 3 else ""
            )
            lines.append(f"{label}: {plural(row.errors, 'ERROR run')} not counted ({reasons})")
        if row.aborted:
            lines.append(f"{label}: {plural(row.aborted, 'run')} aborted, not counted")
    running = sum(row.running for row in report.rows)
    if running:  # one line, not one a lane: they are not a lane's trouble, only not over yet
        lines.append(f"{plural(running, 'run')} still running, not counted yet")
    return lines


def stacked(header: str) -> str:
    """A long header on two lines, split at the space nearest its middle ("Mean Time\nTo Pass")."""
    if len(header) <= 8 or " " not in header:
        return header
    spaces = [i for i, ch in enumerate(header) if ch == " "]
    cut = min(spaces, key=lambda i: abs(len(header) / 2 - i))
    return header[:cut] + "\n" + header[cut + 1 :]


class FittedTable:
    """A report table that never wraps or cuts a figure, whatever the terminal's width.

    Cells do not wrap (rich broke "2.2 s" over two lines and cut "26.5k~" to
    "26.…" at 80 columns). When the table is too wide its long headers go on
    two lines, longest first; when it is still too wide, the columns after the lane's name
    are split over several tables, each repeating the name, the later ones
    titled "(continued)".
    """

    def __init__(
        self, title: str, columns: tuple[str, ...], rows: list[tuple[str, ...]], caption: str | None = None
    ) -> None:
        self.title = title
        self.columns = columns
        self.rows = rows
        self.caption = caption

    def table(self, keep: list[int], headers: list[str]) -> Table:
        # Cells as Text, not str: a lane's name ("[red]x") is never read as rich markup.
        table = Table(header_style="bold", box=box.SIMPLE_HEAD, pad_edge=False)
        for i in keep:
            column = self.columns[i]
            left = i == 0 or column == "Class"
            table.add_column(headers[i], justify="left" if left else "right", no_wrap=True)
        for row in self.rows:
            table.add_row(*(Text(row[i]) for i in keep))
        return table

    def parts(self, console: Console, width: int) -> list[Table]:
        """The table whole, or its columns split over several (each repeating the lane's name)."""
        every = list(range(len(self.columns)))
        headers = list(self.columns)
        # The longest headers go on two lines first, one at a time, until the table fits.
        longest = sorted(
            (i for i in every if stacked(self.columns[i]) != self.columns[i]), key=lambda i: -len(self.columns[i])
        )
        for i in [None, *longest]:
            if i is not None:
                headers[i] = stacked(self.columns[i])
            if natural_width(console, self.table(every, headers)) <= width:
                return [self.table(every, headers)]
        two_line = headers
        groups: list[list[int]] = [[]]
        for i in every[1:]:
            trial = [0, *groups[-1], i]
            if groups[-1] and natural_width(console, self.table(trial, two_line)) > width:
                groups.append([i])
            else:
                groups[-1].append(i)
        return [self.table([0, *group], two_line) for group in groups]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        parts = self.parts(console, options.max_width)
        last = len(parts) - 1
        for n, table in enumerate(parts):
            title = self.title if n == 0 else f"{self.title} (continued)"
            notes = [self.caption] if self.caption and n == last else []
            yield from framed(table, title, notes)
            if notes:
                yield Text("")  # the table's own bottom edge is a blank line: its notes get one too


def _table(
    title: str, columns: tuple[str, ...], rows: list[tuple[str, ...]], caption: str | None = None
) -> FittedTable:
    return FittedTable(title, columns, rows, caption)


def to_rich(report: Report) -> RenderableType:
    """The terminal form: two tables and a line saying where the numbers came from."""
    rows = report.rows
    parts: list[RenderableType] = [Text(describe_sources(report))]
    if not rows:
        parts.append(Text("no lane runs to report"))
        return Group(*parts)
    caption = "\n".join(notes(report)) or None
    parts.append(_table("Results", RESULT_COLUMNS, [result_cells(r, rows) for r in rows], caption))
    parts.append(_table("Convergence and cost", DETAIL_COLUMNS, [detail_cells(r, rows) for r in rows]))
    turns = _curve_turns(report)
    if turns:
        columns = ("Lane", *(f"Turn {n}" for n in range(1, turns + 1)))
        parts.append(
            _table(
                "Mean score after each turn (observed / fitted)",
                columns,
                [curve_cells(r, rows, turns) for r in rows],
            )
        )
    return Group(*parts)


def _md_escape(cell: str) -> str:
    return visible(cell).replace("|", "\\|")


def _md_table(columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    align = ["---" if i == 0 or c == "Class" else "---:" for i, c in enumerate(columns)]
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(_md_escape(c) for c in row) + " |" for row in rows]
    return lines


def to_markdown(report: Report) -> str:
    """Markdown for slides and READMEs: the talk's table first, then the details."""
    rows = report.rows
    lines = [f"_{describe_sources(report)}_", ""]
    lines += _md_table(RESULT_COLUMNS, [result_cells(r, rows) for r in rows])
    if notes(report):
        lines += ["", *(f"- {note}" for note in notes(report))]
    lines += ["", *_md_table(DETAIL_COLUMNS, [detail_cells(r, rows) for r in rows])]
    turns = _curve_turns(report)
    if turns:
        columns = ("Lane", *(f"Turn {n}" for n in range(1, turns + 1)))
        lines += ["", "Mean score after each turn (observed / fitted):", ""]
        lines += _md_table(columns, [curve_cells(r, rows, turns) for r in rows])
    return "\n".join(lines) + "\n"


def to_csv(report: Report) -> str:
    """One row per lane, every figure, JSON key names as the header; empty cell = n/a."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in report.rows:
        data = row.to_json()
        # Always made visible: a csv is as often read with `cat` as loaded by a script.
        writer.writerow(
            {
                k: "" if data[k] is None else visible(data[k]) if isinstance(data[k], str) else data[k]
                for k in CSV_FIELDS
            }
        )
    return out.getvalue()


def to_json_text(report: Report) -> str:
    return json.dumps(report.to_json(), indent=2) + "\n"
