"""One lane in depth: its latest candidate, the feedback it got, and every turn.

The candidate and the feedback are the model's and the candidate's own words:
they are shown as plain text (never markup) with their control characters made
visible (:func:`loopterm.sanitize.visible`), newlines and tabs kept.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import DataTable, Static, TabbedContent, TabPane

from loopterm.events import Outcome
from loopterm.racestate import LaneState, RaceState, TurnRow
from loopterm.sanitize import visible
from loopterm.stats.table import fmt_cost, fmt_tokens, ordinal
from loopterm.tui.footer import make_footer
from loopterm.tui.legend import lane_legend
from loopterm.tui.panetext import lane_outcome
from loopterm.tui.widgets.code_view import CodeView

REFRESH_S = 0.5
HISTORY_COLUMNS = (
    "Turn",
    "Status",
    "Score",
    "TTFT",
    "Model",
    "Valid.",
    "Harn.",
    "Tok in/out",
    "Cost",
    "Fixed",
    "Broke",
)
# When the table is wider than the screen these go first, in this order, rather than
# Fixed and Broke being cut off at the right edge (a DataTable would scroll sideways).
HISTORY_DROP_ORDER = ("Harn.", "TTFT", "Cost", "Valid.", "Tok in/out")


def history_columns(rows: list[tuple[str, ...]], room: int, padding: int = 1) -> list[str]:
    """The history columns that fit ``room`` cells, given the rows' cells."""
    widths = {
        column: max([len(column), *(len(row[i]) for row in rows)]) + 2 * padding
        for i, column in enumerate(HISTORY_COLUMNS)
    }
    kept = list(HISTORY_COLUMNS)
    for column in HISTORY_DROP_ORDER:
        if sum(widths[c] for c in kept) <= room:
            break
        kept.remove(column)
    return kept


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    return f"{seconds:.2f} s"


NOT_RUN = "—"  # a turn whose candidate was never validated (its generation failed)


def history_row(row: TurnRow) -> tuple[str, ...]:
    """One turn; the score, validation time and changes read "—" when no validation ran."""
    tokens = "-"
    if row.prompt_tokens or row.completion_tokens:
        tokens = f"{fmt_tokens(row.prompt_tokens)}/{fmt_tokens(row.completion_tokens, row.tokens_estimated)}"
    validated = row.feedback is not None
    done = row.status is not None
    if validated and row.passed is not None and row.score is not None:
        score = f"{row.passed}/{row.total} {row.score:.0%}"
    else:
        score = NOT_RUN if done else "-"
    unvalidated = NOT_RUN if done else "-"
    return (
        str(row.turn),
        row.status or ("ERROR" if row.error else "running"),
        score,
        fmt_duration(row.ttft_s),
        fmt_duration(row.model_s),
        fmt_duration(row.validation_s) if validated and done else unvalidated,
        fmt_duration(row.harness_s),
        tokens,
        fmt_cost(row.cost),
        str(len(row.fixed)) if validated and done else unvalidated,
        str(len(row.broke)) if validated and done else unvalidated,
    )


def feedback_text(lane: LaneState) -> Text:
    """The feedback that went back to the model; after the last turn nothing went back."""
    rows = [row for row in lane.history if row.feedback is not None]
    if not rows:
        if not lane.done:
            return Text("No feedback yet: the first validation has not finished.")
        text = Text("No feedback: the lane ended before any candidate was validated.")
        if lane.outcome == Outcome.ERROR:
            text.append("\n\n")
            text.append(lane_outcome(lane), "bold")
        return text
    text = Text()
    latest = rows[-1]
    if lane.done:
        text.append(f"After turn {latest.turn} (the lane ended here, so this was not sent):\n\n", "bold")
        text.append(visible(latest.feedback or "", multiline=True))
        if len(rows) > 1:
            text.append(
                f"\n\nSent back after turn {rows[-2].turn} (the prompt of turn {rows[-2].turn + 1}):\n\n", "bold"
            )
            text.append(visible(rows[-2].feedback or "", multiline=True))
    else:
        text.append(f"Sent back after turn {latest.turn} (the prompt of turn {latest.turn + 1}):\n\n", "bold")
        text.append(visible(latest.feedback or "", multiline=True))
    return text


def detail_title(lane: LaneState, race: RaceState, width: int | None = None) -> str:
    """One line: name, outcome, model, class. An ERROR's reason goes on its own lines below.

    Given a ``width``, the badges at the end go first (SIMULATED when the name already says
    "(sim)", then the class, then the model) so the line is not cut in the middle of a part.
    """
    if lane.outcome == Outcome.ERROR:
        status = "ERROR"
    else:
        status = lane_outcome(lane) if lane.done else f"turn {lane.turn}/{race.max_turns}, running"
    if lane.place:
        status += f" ({ordinal(lane.place)})"
    name = race.display_name(lane.run_id)
    parts = [name, status, visible(lane.info.model), visible(lane.info.lane_class or "?")]
    if lane.info.simulated:
        parts.append("SIMULATED")
    title = "  ·  ".join(parts)
    if width is not None:
        droppable = len(parts) - 2  # never the name or the outcome
        if lane.info.simulated and "(sim)" not in name:
            droppable -= 1  # the only sign this lane is simulated: keep it
            parts.insert(2, parts.pop())  # ...ahead of the model and class
        while len(title) > width and droppable > 0:
            parts.pop()
            droppable -= 1
            title = "  ·  ".join(parts)
    return title


def detail_reason(lane: LaneState) -> str:
    """The error an ERROR lane ended with ("ERROR: ..."), else ""."""
    return lane_outcome(lane) if lane.outcome == Outcome.ERROR else ""


class LaneDetailScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="detail.back"),
        # The tabs name themselves: one footer entry for the three keys, so 80 columns hold them all.
        Binding("1", "show_tab('tab-code')", "Tabs", key_display="1-3", id="detail.code"),
        Binding("2", "show_tab('tab-feedback')", "Feedback", show=False, id="detail.feedback"),
        Binding("3", "show_tab('tab-history')", "History", show=False, id="detail.history"),
    ]

    def __init__(self, race: RaceState, run_id: str) -> None:
        super().__init__(id="lane-detail")
        self.race = race
        self.run_id = run_id
        self._shown: tuple[object, ...] | None = None
        self._columns: list[str] = []  # the history columns on screen

    @property
    def lane(self) -> LaneState | None:
        return self.race.lane(self.run_id)

    def compose(self) -> ComposeResult:
        yield Static(id="detail-title")
        yield Static(Text(lane_legend(self.lane, self.race)), id="detail-legend")  # what its badges mean
        yield Static(id="detail-reason")
        with TabbedContent(id="detail-tabs"):
            with TabPane("Candidate", id="tab-code"):
                yield CodeView(id="code")
            with TabPane("Feedback", id="tab-feedback"), VerticalScroll(id="feedback-scroll"):
                yield Static(id="feedback")
            with TabPane("History", id="tab-history"):
                yield DataTable(id="history", zebra_stripes=True, cursor_type="row")
        yield make_footer(self.app)

    def on_resize(self) -> None:
        self.refresh_content()  # the title's parts fit the width

    def on_mount(self) -> None:
        self.refresh_content()
        self.set_interval(REFRESH_S, self.refresh_content)

    def action_show_tab(self, tab: str) -> None:
        self.query_one(TabbedContent).active = tab

    def show_news(self, lanes: set[str | None]) -> None:
        if None in lanes or self.run_id in lanes:
            self.refresh_content()

    def refresh_content(self) -> None:
        lane = self.lane
        if lane is None:
            self.query_one("#detail-title", Static).update(Text(visible(f"{self.run_id}: not in this race")))
            return
        key = (
            lane.latest_code_turn,
            lane.latest_feedback_turn,
            lane.outcome,
            [(r.turn, r.status, r.model_s) for r in lane.history],
            lane.turn,
            self.app.current_theme.dark,
            self.size.width,
        )
        if key == self._shown:
            return
        self._shown = key
        words = detail_title(lane, self.race, max(self.size.width - 2, 1))  # inside the padding
        self.query_one("#detail-title", Static).update(Text(words, no_wrap=True, overflow="ellipsis"))
        reason, why = self.query_one("#detail-reason", Static), detail_reason(lane)
        reason.update(Text(why))
        reason.display = bool(why)
        code = self.query_one(CodeView)
        if lane.latest_code is None:
            if lane.done:
                code.show_message("No candidate: the lane ended before any turn produced code.")
            else:
                code.show_message("No candidate yet." if lane.turn <= 1 else "No turn has produced code yet.")
        else:
            code.show_code(visible(lane.latest_code, multiline=True), self.app.current_theme.dark)
        self.query_one("#feedback", Static).update(feedback_text(lane))
        table = self.query_one("#history", DataTable)
        cursor = table.cursor_row
        rows = [history_row(row) for row in lane.history]
        room = self.size.width - (2 if len(rows) + 1 > table.size.height > 0 else 0)  # a vertical scrollbar
        columns = history_columns(rows, room, table.cell_padding)
        if columns != self._columns:
            self._columns = columns
            table.clear(columns=True)
            for column in columns:
                table.add_column(column, key=column)
        table.clear()
        keep = [HISTORY_COLUMNS.index(column) for column in columns]
        for row, cells in zip(lane.history, rows, strict=True):
            table.add_row(*(cells[i] for i in keep), key=str(row.turn))
        if lane.history:
            table.move_cursor(row=min(cursor, len(lane.history) - 1))
