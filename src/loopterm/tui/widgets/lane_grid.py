"""The panes of every lane, laid out to fit the lane count and the screen.

Two lanes side by side, three or four in a 2x2 grid, more as compact rows;
on a large screen up to eight lanes still get full panes in two columns.
Every pane on screen words things the same way (``PaneForm``, fitted to the
narrowest pane), so neighbours never read ``gen`` beside ``generating``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from math import ceil

from textual.containers import Container
from textual.events import Resize

from loopterm.racestate import RaceState
from loopterm.tui.glyphs import Glyphs
from loopterm.tui.panetext import PaneForm, pane_form
from loopterm.tui.widgets.lane_pane import LanePane

FULL_PANE_MIN_HEIGHT = 8  # border + ident, phase, score, history, outcome, 2 checks
FULL_PANE_MIN_WIDTH = 36
COMPACT_MIN_HEIGHT = 2  # the lane's line and its score line
COMPACT_MAX_HEIGHT = 8


@dataclass(frozen=True)
class Layout:
    columns: int
    rows: int
    compact: bool


def choose_layout(lanes: int, width: int, height: int) -> Layout:
    """How to arrange ``lanes`` panes in ``width`` x ``height`` cells."""
    if lanes <= 1:
        return Layout(1, 1, False)
    for columns in (2, 3) if lanes > 4 else (2,):
        rows = ceil(lanes / columns)
        if lanes == 2 and width < 2 * FULL_PANE_MIN_WIDTH:
            break  # two narrow columns read worse than two rows
        if width // columns >= FULL_PANE_MIN_WIDTH and height // rows >= FULL_PANE_MIN_HEIGHT:
            return Layout(columns, rows, False)
    if lanes == 2 and height // 2 >= FULL_PANE_MIN_HEIGHT:
        return Layout(1, 2, False)
    return Layout(1, lanes, True)


def compact_heights(lanes: int, height: int) -> list[int]:
    """Each compact row's height: whole rows per lane (its lines stay together), no row left blank.

    The rows an even split leaves over go one each to the first lanes, so
    with 8 lanes in 22 rows six get 3 rows (a failing check) and two get 2.
    """
    if lanes <= 0:
        return []
    base = max(COMPACT_MIN_HEIGHT, min(COMPACT_MAX_HEIGHT, height // lanes))
    spare = max(0, height - base * lanes) if base < COMPACT_MAX_HEIGHT else 0
    return [base + (1 if i < spare else 0) for i in range(lanes)]


class LaneGrid(Container, can_focus=False):
    def __init__(self, race: RaceState, now: Callable[[], float], glyphs: Glyphs) -> None:
        super().__init__(id="lanes")
        self.race = race
        self.now = now
        self.glyphs = glyphs
        self.layout_now = Layout(1, 1, False)
        self._lane_ids: list[str] = []
        self._generation = -1
        self._form: PaneForm | None = None
        self._form_key: tuple[object, ...] | None = None

    @property
    def panes(self) -> list[LanePane]:
        return list(self.query(LanePane))

    async def sync_lanes(self) -> None:
        """Rebuild the panes when a race (or a replay's restart) announces its lanes."""
        if self.race.lane_order == self._lane_ids and self.race.generation == self._generation:
            return
        focused = self.app.focused
        had_focus = isinstance(focused, LanePane) and focused.parent is self
        self._lane_ids = self.race.lane_order
        self._generation = self.race.generation
        await self.remove_children()
        panes = [LanePane(run_id, self.race, self.now, self.glyphs, i) for i, run_id in enumerate(self._lane_ids)]
        await self.mount_all(panes)
        self._arrange()
        if panes and (had_focus or self.app.focused is None):
            panes[0].focus()

    def on_resize(self, event: Resize) -> None:
        self._arrange()

    def _arrange(self) -> None:
        panes = self.panes
        layout = choose_layout(len(panes), self.size.width, self.size.height)
        self.layout_now = layout
        self.set_class(layout.compact, "-compact")
        if not layout.compact:
            self.styles.grid_size_columns = layout.columns
            self.styles.grid_size_rows = layout.rows
        heights = compact_heights(len(panes), self.size.height)
        for pane, height in zip(panes, heights, strict=True):
            pane.compact = layout.compact
            pane.styles.height = height if layout.compact else "1fr"

    def _children_panes(self) -> list[LanePane]:
        # The children, not a DOM query: this runs on every tick and every news.
        return [child for child in self.children if isinstance(child, LanePane)]

    def tick(self) -> None:
        """The clock moved: every pane repaints what that changed (a finished lane's, nothing)."""
        for pane in self._children_panes():
            pane.tick()

    def show_news(self, lanes: set[str | None]) -> None:
        every = None in lanes
        for pane in self._children_panes():
            if every or pane.run_id in lanes:
                pane.show_news()

    def shared_form(self) -> PaneForm | None:
        """One wording for every pane on screen, fitted to the narrowest (see ``PaneForm``).

        Each pane asks for it as it builds its lines, so it always matches the panes'
        sizes as they are now (a pane whose form changed rebuilds at its next repaint);
        it is worked out again only when a pane's width, the layout or the race changes.
        """
        widths = tuple(pane.content_size.width for pane in self._children_panes())
        key = (widths, self.layout_now.compact, self.race.generation, len(self.race.lanes), self.race.max_turns)
        if key != self._form_key:
            self._form_key = key
            usable = [width for width in widths if width > 0]
            self._form = pane_form(self.race, min(usable), self.layout_now.compact) if usable else None
        return self._form

    def move_focus(self, dx: int, dy: int) -> None:
        """Arrow keys: move between panes as they are laid out on screen."""
        panes = self.panes
        if not panes:
            return
        focused = self.app.focused
        index = panes.index(focused) if isinstance(focused, LanePane) and focused in panes else 0
        columns = self.layout_now.columns
        target = index + dx + dy * columns
        if 0 <= target < len(panes):
            # Now, not via focus() (which waits for the next idle): keys typed in a burst
            # must each move on from where the previous one landed.
            self.screen.set_focus(panes[target])
