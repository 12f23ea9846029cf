"""The viewer repaints only what changed: idle panes cost nothing, a ticking timer only its cells.

The Pilot tests drive the race screen's clock themselves (``ticking``): every
tick moves the race clock on by a tenth of a second, and the tests await a
number of ticks rather than sleep. ``Terminal`` replays what the app would
write to a real terminal (Textual's partial updates, exactly as rendered) so
the picture built from many small repaints can be compared with a full one.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable

import pytest
from rich.cells import cell_len
from rich.text import Text
from support.tui_pilot import app_for, panes, until
from support.tui_script import LanePlan, Outcome, lane_info, script_race
from textual.geometry import Region
from textual.pilot import Pilot

from loopterm.events import GenerationProgress, LaneDone
from loopterm.tui import app as app_module
from loopterm.tui.app import LooptermApp
from loopterm.tui.repaint import changed_columns, changed_regions
from loopterm.tui.screens.race import RaceScreen
from loopterm.tui.widgets import lane_pane
from loopterm.tui.widgets.lane_pane import LanePane
from loopterm.tui.widgets.race_header import RaceHeader

pytestmark = pytest.mark.anyio

FAST_TICK_S = 0.02  # the screen's clock, sped up: the tests await ticks


# The diff ------------------------------------------------------------------------------------


def test_a_timer_digit_is_the_only_changed_cell() -> None:
    old = Text.assemble(("model", "dim"), "      ", ("12.3 s", "bold"))
    new = Text.assemble(("model", "dim"), "      ", ("12.4 s", "bold"))
    assert changed_columns(old, new, 40) == (14, 15)
    assert changed_regions([Text("same"), old], [Text("same"), new], 40) == [Region(14, 1, 1, 1)]


def test_moved_or_restyled_text_repaints_the_whole_line() -> None:
    old = Text.assemble(("model", "dim"), "      ", ("9.9 s", "bold"))
    new = Text.assemble(("model", "dim"), "     ", ("10.0 s", "bold"))  # the styles moved
    assert changed_columns(old, new, 40) == (0, 40)
    assert changed_columns(Text("ok", "red"), Text("ok", "green"), 40) == (0, 40)
    assert changed_columns(Text("a→b"), Text("a→c"), 40) == (2, 3)  # still one cell a character
    assert changed_columns(Text("界1"), Text("界2"), 40) == (0, 40)  # wide characters: the whole line


def test_a_longer_or_shorter_line_repaints_from_its_first_difference() -> None:
    assert changed_columns(Text("gen 99 tok"), Text("gen 100 tok"), 40) == (4, 11)
    assert changed_columns(Text("gen 100 tok"), Text("gen 99 tok"), 40) == (4, 11)  # the old tail is blanked
    assert changed_columns(Text("same"), Text("same"), 40) is None
    assert changed_regions([Text("a")], [Text("a"), Text("new")], 10) == [Region(0, 1, 3, 1)]
    assert changed_regions([Text("a"), Text("gone")], [Text("a")], 10) == [Region(0, 1, 4, 1)]


# Pilot helpers -----------------------------------------------------------------------------------


class Recorder:
    """Every ``refresh`` of our widgets (by pane run id, or "header") and every pane build."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.refreshes: list[tuple[str, tuple[Region, ...]]] = []
        self.builds: list[str] = []
        for cls, name in ((LanePane, lambda w: w.run_id), (RaceHeader, lambda w: "header")):
            original = cls.refresh

            def refresh(widget, *regions, _original=original, _name=name, **kwargs):
                self.refreshes.append((_name(widget), regions))
                return _original(widget, *regions, **kwargs)

            monkeypatch.setattr(cls, "refresh", refresh)
        for builder in ("full_lines", "compact_lines"):
            original = getattr(lane_pane, builder)

            def build(lane, *args, _original=original):
                self.builds.append(lane.run_id)
                return _original(lane, *args)

            monkeypatch.setattr(lane_pane, builder, build)

    def clear(self) -> None:
        self.refreshes.clear()
        self.builds.clear()

    def of(self, name: str) -> list[tuple[Region, ...]]:
        return [regions for who, regions in self.refreshes if who == name]


class Ticks(list[float]):
    """The times of the ticks so far; ``frozen``: ticks leave the clock where it is."""

    frozen = False


def ticking(monkeypatch: pytest.MonkeyPatch, clock: list[float], step: float = 0.1) -> Ticks:
    """The race screen's clock ticks every ``FAST_TICK_S``, moving ``clock`` on by ``step`` each time."""
    monkeypatch.setattr(app_module, "TICK_S", FAST_TICK_S)
    ticks = Ticks()
    original = RaceScreen.tick

    def tick(screen: RaceScreen) -> None:
        if not ticks.frozen:
            clock[0] = round(clock[0] + step, 3)
        ticks.append(clock[0])
        original(screen)

    monkeypatch.setattr(RaceScreen, "tick", tick)
    return ticks


async def ticks_pass(pilot: Pilot, ticks: list[float], n: int) -> None:
    """``n`` ticks, and what they repainted on the terminal."""
    start = len(ticks)
    await until(pilot, lambda: len(ticks) >= start + n)
    await pilot.pause(0)  # the screen processes what it was sent, then draws (not "until idle": it ticks)


def index_of(events, condition: Callable[[object], bool]) -> int:
    return next(i for i, e in enumerate(events) if condition(e))


# Idle panes cost nothing -------------------------------------------------------------------------


async def test_a_finished_lane_costs_nothing_while_the_others_stream(monkeypatch: pytest.MonkeyPatch) -> None:
    events = script_race()
    fast_done = index_of(events, lambda e: isinstance(e, LaneDone) and e.lane == "fast")
    clock = [1.0]
    ticks = ticking(monkeypatch, clock)
    seen = Recorder(monkeypatch)
    app, source = app_for(events, hold_at=fast_done + 1, now=lambda: clock[0], fps=50)
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: source.sent == fast_done + 1 and "fast" in panes(app))
        fast = panes(app)["fast"]
        await until(pilot, lambda: fast.outcome == "PASS" and "PASS in" in " ".join(fast.lines))
        await ticks_pass(pilot, ticks, 2)
        seen.clear()
        weak = app.race.lanes["weak"]
        for n in range(10):  # the weak lane streams tokens while the clock runs
            app._on_event(
                GenerationProgress(t=clock[0], lane="weak", turn=weak.turn, chars=900 + 40 * n, tokens=300 + 10 * n)
            )
            await ticks_pass(pilot, ticks, 1)
        assert seen.of("fast") == []  # not one refresh of the finished lane's pane
        assert "fast" not in seen.builds  # nor one line built for it
        assert seen.of("weak")  # while the streaming lane did repaint
        assert f"{300 + 90}" in " ".join(panes(app)["weak"].lines)


async def test_a_finished_race_costs_nothing_per_tick(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [1.0]
    ticks = ticking(monkeypatch, clock)
    seen = Recorder(monkeypatch)
    app, source = app_for(now=lambda: clock[0], fps=50)
    async with app.run_test(size=(100, 30)) as pilot:
        await source.finished.wait()
        header = app.screen.query_one(RaceHeader)
        await until(pilot, lambda: "finished" in header.text)
        await ticks_pass(pilot, ticks, 2)
        seen.clear()
        await ticks_pass(pilot, ticks, 10)
        assert seen.refreshes == []
        assert seen.builds == []


# A ticking timer repaints its own cells ------------------------------------------------------------


async def test_a_running_lanes_tick_repaints_only_its_timers_cells(monkeypatch: pytest.MonkeyPatch) -> None:
    events = script_race()
    # Frontier is generating (its words do not move with the clock), and stays so: the race holds.
    streaming = index_of(
        events, lambda e: isinstance(e, GenerationProgress) and e.lane == "frontier" and not e.first_token
    )
    clock = [2.5]
    seen = Recorder(monkeypatch)
    app, source = app_for(events, hold_at=streaming + 1, now=lambda: clock[0])
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: source.sent == streaming + 1 and "frontier" in panes(app))
        frontier = panes(app)["frontier"]
        header = app.screen.query_one(RaceHeader)
        await until(
            pilot,
            lambda: (
                "generating 500 tok" in frontier.lines[1]
                and frontier.lines[0].endswith(" 2.5 s")
                and header.text.endswith("running    2.5 s")
            ),
        )
        screen = app.screen
        assert isinstance(screen, RaceScreen)
        await until(pilot, lambda: not app._news_due)
        screen.tick()
        seen.clear()
        clock[0] = 2.6
        screen.tick()
        screen.tick()  # a second tick with the same time changes nothing
        await pilot.pause()
        width = frontier.content_size.width
        assert frontier.lines[0].endswith(" 2.6 s")
        assert seen.of("frontier") == [(Region(width - 3, 0, 1, 1),)]  # the "5" that became a "6"
        assert seen.builds.count("frontier") == 1
        assert seen.of("header") == [(Region(header.content_size.width - 3, 0, 1, 1),)]
        assert header.text.endswith("running    2.6 s")


# The picture stays right ------------------------------------------------------------------------------


_CSI = re.compile(r"\x1b\[([0-9;?]*)([A-Za-z])")


class Terminal:
    """A grid of cells fed the bytes Textual writes: cursor moves, colours and text; enough to check
    that partial updates add up to the right picture."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.cells = [[(" ", "")] * width for _ in range(height)]
        self.x = self.y = 0
        self.sgr = ""

    def feed(self, data: str) -> None:
        at = 0
        for match in _CSI.finditer(data):
            self._text(data[at : match.start()])
            at = match.end()
            params, command = match.groups()
            if command == "H":
                row, col = (int(n) for n in params.split(";"))
                self.y, self.x = row - 1, col - 1
            elif command == "m":
                self.sgr = "" if params in ("", "0") else params
        self._text(data[at:])

    def _text(self, text: str) -> None:
        for char in text:
            if char == "\n":
                self.y, self.x = self.y + 1, 0
            elif char == "\r":
                self.x = 0
            elif 0 <= self.y < self.height and 0 <= self.x < self.width:
                self.cells[self.y][self.x] = (char, self.sgr)
                self.x += max(1, cell_len(char))

    def rows(self) -> list[str]:
        return ["".join(char for char, _ in row) for row in self.cells]


def watch_terminal(app: LooptermApp, size: tuple[int, int]) -> Terminal:
    terminal = Terminal(*size)

    def display(screen, update) -> None:  # what App._display writes to a real terminal
        if update is not None:
            terminal.feed(update.render_segments(app.console))

    app._display = display  # type: ignore[method-assign]
    return terminal


def full_repaint(app: LooptermApp, size: tuple[int, int]) -> Terminal:
    """The screen drawn whole, from scratch (what a new terminal would show)."""
    fresh = Terminal(*size)
    for y, strip in enumerate(app.screen._compositor.render_strips()):
        fresh.feed(f"\x1b[{y + 1};1H" + strip.render(app.console))
    return fresh


def eight_lanes() -> list[LanePlan]:
    failing = ["logic.rounding_half_up", "shape.success_json", "state.approve_twice_409"]
    infos = [lane_info(f"l{i}", f"Lane {i}", f"model-{i}", "L/AR" if i % 2 else "H/D") for i in range(8)]
    return [
        LanePlan(info, [failing[: 1 + i % 3], failing[:1], []][: 2 + i % 2], Outcome.PASS, turn_s=0.4 + i / 10)
        for i, info in enumerate(infos)
    ]


@pytest.mark.parametrize(
    ("plans", "size"), [(None, (100, 30)), (eight_lanes(), (80, 24))], ids=["grid-100x30", "compact-80x24"]
)
async def test_small_repaints_add_up_to_the_full_picture(
    monkeypatch: pytest.MonkeyPatch, plans: list[LanePlan] | None, size: tuple[int, int]
) -> None:
    events = script_race(plans)
    clock = [0.0]
    ticks = ticking(monkeypatch, clock, step=0.07)
    app, source = app_for(events, hold_at=1, now=lambda: clock[0], fps=50)
    terminal = watch_terminal(app, size)
    async with app.run_test(size=size) as pilot:
        for hold in [*range(8, len(events), 9), None]:  # the race in steps, the clock running
            source.hold_at = hold
            release, source.released = source.released, asyncio.Event()
            release.set()
            await until(pilot, lambda hold=hold: source.sent == (hold or len(events)))
            await ticks_pass(pilot, ticks, 3)
            ticks.frozen = True  # hold the picture still: everything sent is on the terminal
            await until(pilot, lambda: not app._news_due)
            await ticks_pass(pilot, ticks, 2)
            assert terminal.rows() == full_repaint(app, size).rows()
            assert terminal.cells == full_repaint(app, size).cells  # colours too
            for pane in panes(app).values():  # and each pane shows the lines it last built
                region = pane.content_region
                shown = [terminal.rows()[y][region.x : region.right].rstrip() for y in region.line_range]
                assert shown[: len(pane.lines)] == [line.rstrip() for line in pane.lines]
            ticks.frozen = False
