"""One lane of the race: a focusable pane that repaints itself from the race state.

Cheap to keep on screen: the screen's clock ``tick`` and the app's news
(``show_news``) rebuild the pane's lines only when what they are built from
changed (the lane's news, the words that move with the clock, the size), and
then hand Textual only the cells that differ (a ticking timer's digit). The
pane draws line by line (Textual's line API), so Textual renders again only
the lines it was told changed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.visual import Visual
from textual.widget import Widget

from loopterm.events import Outcome
from loopterm.racestate import LaneState, RaceState
from loopterm.stats.table import OUTCOME_LABELS, ordinal
from loopterm.tui.glyphs import Glyphs
from loopterm.tui.panetext import PaneForm, clock_words, compact_lines, full_lines
from loopterm.tui.repaint import changed_regions

_ROLES = (
    "name",
    "model",
    "class",
    "sim",
    "timer",
    "turn",
    "phase",
    "bar",
    "bar-empty",
    "score",
    "spark",
    "pass",
    "fail",
    "thrash",
    "place",
    "fixed",
    "broke",
    "check-id",
    "check-msg",
    "muted",
)
_OUTCOME_CLASSES = {
    Outcome.PASS: "-pass",
    Outcome.THRASH: "-thrash",
    Outcome.TURN_LIMIT: "-thrash",
    Outcome.BUDGET: "-thrash",
    Outcome.ERROR: "-error",
    Outcome.ABORTED: "-error",
}


@dataclass(frozen=True)
class Frame:
    """The lines a pane shows, and what they were built from."""

    key: tuple[object, ...]  # news seen, clock words, size, compact, form: equal keys build equal lines
    width: int
    height: int
    compact: bool
    lines: list[Text]


class LanePane(Widget, can_focus=True):
    """Name, badges, timer, turn and phase, score bar and sparkline, failing checks, outcome."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {f"lane-pane--{role}" for role in _ROLES}
    ALLOW_MAXIMIZE = False  # a maximized 2-line compact pane is useless: enter opens the lane's detail
    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "open", "Open", id="lane.open")]

    compact: reactive[bool] = reactive(False)
    outcome: reactive[Outcome | None] = reactive(None)

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
        self.lines: list[str] = []  # the text on screen (or about to be), for tests and screen readers
        self.news = 0  # how many times the app said this lane had news
        self._synced_news = -1
        self._frame: Frame | None = None  # the lines on screen, or about to be (refresh sent)
        self._styles: dict[str, Style] = {}  # component styles, until the CSS or theme changes
        self._border: tuple[str, str] | None = None
        self.form: PaneForm | None = None  # the wordings of the lines on screen: the grid's, shared by every pane

    @property
    def lane(self) -> LaneState | None:
        return self.race.lane(self.run_id)

    def on_mount(self) -> None:
        self._sync()
        # A theme may change only the lines' colours, not the pane's own styles.
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._restyle())

    def tick(self) -> None:
        """The clock moved (the screen's ~10 Hz tick): repaint what it changed, often nothing."""
        self._repaint()

    def show_news(self) -> None:
        """The lane has news: repaint now rather than at the next tick."""
        self.news += 1
        self._repaint()

    def _repaint(self) -> None:
        if self.lane is None or not self.is_mounted:
            return
        if self._synced_news != self.news:
            self._sync()
        old = self._frame
        if old is None:
            self.refresh()  # the first paint, or the styles changed: Textual repaints it all anyway
            return
        frame = self._frame_now()
        if frame is old:
            return  # nothing it shows changed: no work for Textual either
        if (frame.width, frame.height, frame.compact) != (old.width, old.height, old.compact):
            self.refresh()
            return
        regions = changed_regions(old.lines, frame.lines, frame.width)
        if regions:
            self.refresh(*regions)

    def _frame_now(self) -> Frame:
        """The lines for the lane as it is now; the last frame itself when nothing it shows changed."""
        lane = self.lane
        width, height = self.content_size.width, self.content_size.height
        now = self.now()
        shared = getattr(self.parent, "shared_form", None)  # the LaneGrid's (None: this pane's own)
        self.form = shared() if shared is not None else None
        key = (
            self.news,
            clock_words(lane, self.race, now) if lane is not None else (),
            width,
            height,
            self.compact,
            self.form,
        )
        frame = self._frame
        if frame is not None and frame.key == key:
            return frame
        if lane is None:
            lines: list[Text] = []
        else:
            build = compact_lines if self.compact else full_lines
            lines = build(lane, self.race, now, width, height, self.glyphs, self._style, self.form)
        frame = Frame(key, width, height, self.compact, lines)
        self._frame = frame
        self.lines = [line.plain for line in lines]
        return frame

    def _painting_frame(self) -> Frame:
        """The frame Textual paints from: the one the last refresh was computed against.

        Rebuilt only for a new size or after a style change, when Textual repaints
        the whole pane: a region refresh must be painted from the very lines it was
        computed from, or lines outside the region would go stale on screen.
        """
        frame = self._frame
        width, height = self.content_size.width, self.content_size.height
        if frame is None or (frame.width, frame.height, frame.compact) != (width, height, self.compact):
            frame = self._frame_now()
        return frame

    def _sync(self) -> None:
        lane = self.lane
        if lane is None:
            return
        self._synced_news = self.news
        self.outcome = lane.outcome
        self.set_class(lane.info.simulated, "-sim")
        subtitle = OUTCOME_LABELS[lane.outcome] if lane.outcome else ""
        if lane.place:
            subtitle = f"{ordinal(lane.place)} · {subtitle}"
        title = self.race.display_name(lane.run_id)
        if (title, subtitle) != self._border:  # setting either repaints the whole pane
            self._border = (title, subtitle)
            # Text, not str: Textual reads a str title as markup, and a lanes file may name a lane "[red]x".
            self.border_title = Text(title)
            self.border_subtitle = subtitle

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._restyle()

    def _restyle(self) -> None:
        """The theme, the CSS or a class changed, and the lines' colours with it: build and paint anew."""
        self._styles.clear()
        self._frame = None
        self.refresh()

    def watch_compact(self, compact: bool) -> None:
        self.set_class(compact, "-compact")

    def watch_outcome(self, outcome: Outcome | None) -> None:
        for cls in set(_OUTCOME_CLASSES.values()):
            self.remove_class(cls)
        if outcome is not None:
            self.add_class(_OUTCOME_CLASSES[outcome])

    def _style(self, role: str) -> Style:
        style = self._styles.get(role)
        if style is None:
            style = self._styles[role] = self.get_component_rich_style(f"lane-pane--{role}", partial=True)
        return style

    def render_line(self, y: int) -> Strip:
        """One line of the pane (Textual's line API): Textual asks only for the lines it repaints."""
        if self.text_selection is not None:  # a selection's offsets are the whole text's
            return super().render_line(y)
        lines = self._painting_frame().lines
        width = self.content_size.width
        if y >= len(lines):
            return Strip.blank(width, self.visual_style.rich_style)
        content = Content.from_rich_text(lines[y], console=self.app.console)
        strips = Visual.to_strips(self, content, width, 1, self.visual_style)
        return strips[0] if strips else Strip.blank(width, self.visual_style.rich_style)

    def render(self) -> Text:
        """The whole pane as one Text (Textual's selection, and anything measuring the widget)."""
        if self.lane is None:
            return Text("")
        return Text("\n", no_wrap=True).join(self._painting_frame().lines)

    def on_click(self) -> None:
        self.focus()
        self.post_message(self.Opened(self.run_id))

    def action_open(self) -> None:
        self.post_message(self.Opened(self.run_id))
