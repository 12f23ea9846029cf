"""The main screen: a header, one pane per lane, a line once the race is over, and the key bindings."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen

from loopterm.racestate import RaceState
from loopterm.sources import ReplayControls
from loopterm.tui.footer import make_footer
from loopterm.tui.glyphs import Glyphs
from loopterm.tui.widgets.lane_grid import LaneGrid
from loopterm.tui.widgets.race_header import RaceHeader
from loopterm.tui.widgets.race_over import RaceOver

TICK_S = 0.1  # the timers show tenths of a second: ticking faster would change nothing on screen


class RaceScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "move(-1, 0)", "Left", show=False, id="lanes.left"),
        Binding("right", "move(1, 0)", "Right", show=False, id="lanes.right"),
        Binding("up", "move(0, -1)", "Up", show=False, id="lanes.up"),
        Binding("down", "move(0, 1)", "Down", show=False, id="lanes.down"),
    ]

    def __init__(
        self,
        race: RaceState,
        now: Callable[[], float],
        glyphs: Glyphs,
        controls: ReplayControls | None,
        tick_s: float | None = None,
    ) -> None:
        """``tick_s``: how often the timers move (default ``TICK_S``; longer under ``--fps``)."""
        super().__init__(id="race")
        self.race = race
        self.now = now
        self.glyphs = glyphs
        self.controls = controls
        self.tick_s = TICK_S if tick_s is None else tick_s

    def compose(self) -> ComposeResult:
        yield RaceHeader(self.race, self.now, self.controls)
        yield LaneGrid(self.race, self.now, self.glyphs)
        yield RaceOver(self.race, replay=self.controls is not None)
        yield make_footer(self.app)

    def on_mount(self) -> None:
        # One clock for the header and every pane: a tick is one repaint of all it changed,
        # not one per widget at slightly different moments.
        self.set_interval(self.tick_s, self.tick)

    def tick(self) -> None:
        self.query_one(RaceHeader).tick()
        self.grid.tick()
        self.query_one(RaceOver).tick()

    @property
    def grid(self) -> LaneGrid:
        return self.query_one(LaneGrid)

    async def sync_lanes(self) -> None:
        await self.grid.sync_lanes()

    def show_news(self, lanes: set[str | None]) -> None:
        """Events arrived for ``lanes`` (None: the whole race): repaint what shows them now."""
        self.query_one(RaceHeader).show_news()
        self.grid.show_news(lanes)
        self.query_one(RaceOver).show_news()

    def action_move(self, dx: int, dy: int) -> None:
        self.grid.move_focus(dx, dy)
