"""One lane of the race: a focusable pane that repaints itself from the race state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from loopterm.racestate import LaneState, RaceState
from loopterm.stats.table import OUTCOME_LABELS, ordinal
from loopterm.tui.glyphs import Glyphs
from loopterm.tui.panetext import compact_lines, full_lines

REPAINT_S = 0.1  # ~10 Hz: smooth timers, cheap with 8 lanes

_ROLES = ("name", "model", "class", "sim", "timer", "turn", "phase", "bar", "bar-empty", "score", "spark",
          "pass", "fail", "thrash", "place", "fixed", "broke", "check-id", "check-msg", "muted")
_OUTCOME_CLASSES = {"PASS": "-pass", "THRASH": "-thrash", "TURN_LIMIT": "-thrash", "BUDGET": "-thrash",
                    "ERROR": "-error", "ABORTED": "-error"}


class LanePane(Widget, can_focus=True):
    """Name, badges, timer, turn and phase, score bar and sparkline, failing checks, outcome."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {f"lane-pane--{role}" for role in _ROLES}
    ALLOW_MAXIMIZE = False  # a maximized 2-line compact pane is useless: enter opens the lane's detail
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "open", "Open", id="lane.open")]

    compact: reactive[bool] = reactive(False)
    outcome: reactive[str | None] = reactive(None)

    @dataclass
    class Opened(Message):
        """The user asked for this lane's detail screen."""

        run_id: str

    def __init__(self, run_id: str, race: RaceState, now: Callable[[], float], glyphs: Glyphs, index: int) -> None:
        super().__init__(id=f"lane-{index}", classes="lane-pane")
        self.run_id = run_id
        self.race = race
        self.now = now
        self.glyphs = glyphs
        self.index = index
        self.lines: list[str] = []  # the text last painted, for tests and screen readers
        self._synced_version = -1

    @property
    def lane(self) -> LaneState | None:
        return self.race.lane(self.run_id)

    def on_mount(self) -> None:
        self._sync()
        self.set_interval(REPAINT_S, self._tick)

    def _tick(self) -> None:
        lane = self.lane
        if lane is None:
            return
        # A running lane's timer moves every tick; a finished one repaints only on news.
        if lane.done and self.race.version == self._synced_version:
            return
        self._sync()
        self.refresh()

    def show_news(self) -> None:
        """The lane has news: repaint now rather than at the next tick."""
        self._sync()
        self.refresh()

    def _sync(self) -> None:
        lane = self.lane
        if lane is None:
            return
        self._synced_version = self.race.version
        self.outcome = lane.outcome
        self.set_class(lane.info.simulated, "-sim")
        # Text, not str: Textual reads a str title as markup, and a lanes file may name a lane "[red]x".
        self.border_title = Text(self.race.display_name(lane.run_id))
        subtitle = OUTCOME_LABELS.get(lane.outcome or "", "")
        if lane.place:
            subtitle = f"{ordinal(lane.place)} · {subtitle}"
        self.border_subtitle = subtitle

    def watch_compact(self, compact: bool) -> None:
        self.set_class(compact, "-compact")

    def watch_outcome(self, outcome: str | None) -> None:
        for cls in set(_OUTCOME_CLASSES.values()):
            self.remove_class(cls)
        if outcome is not None:
            self.add_class(_OUTCOME_CLASSES.get(outcome, "-error"))

    def _style(self, role: str) -> Style:
        return self.get_component_rich_style(f"lane-pane--{role}", partial=True)

    def render(self) -> Text:
        lane = self.lane
        if lane is None:
            self.lines = []
            return Text("")
        width, height = self.content_size.width, self.content_size.height
        build = compact_lines if self.compact else full_lines
        lines = build(lane, self.race, self.now(), width, height, self.glyphs, self._style)
        self.lines = [line.plain for line in lines]
        return Text("\n", no_wrap=True).join(lines)

    def on_click(self) -> None:
        self.focus()
        self.post_message(self.Opened(self.run_id))

    def action_open(self) -> None:
        self.post_message(self.Opened(self.run_id))
