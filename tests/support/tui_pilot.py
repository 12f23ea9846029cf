"""Pilot helpers shared by the viewer's tests: build an app on a scripted race, await its panes."""

from __future__ import annotations

from collections.abc import Callable

from textual.command import CommandInput, CommandList, CommandPalette
from textual.pilot import Pilot

from loopterm.tui.app import LooptermApp, make_app
from loopterm.tui.widgets.lane_pane import LanePane
from support.tui_script import ScriptedSource, script_race

FROZEN = 2.5  # race seconds on every timer: nothing ticks in these tests


async def until(pilot: Pilot, condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Let the app run until ``condition`` holds (panes repaint on a 10 Hz timer)."""
    waited = 0.0
    while not condition():
        if waited > timeout:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.02)  # poll: the app runs between looks
        waited += 0.02


async def news_shown(pilot: Pilot, app: LooptermApp) -> None:
    """Every event the app has is on screen: no news waits for its repaint, and the repaint ran.

    News is coalesced (at most ``--fps`` repaints a second), so the last events of a burst
    reach the panes a moment after they arrived.
    """
    await until(pilot, lambda: not app._news_due)
    await pilot.pause()  # the screen processes the refreshes the news sent


async def palette_found(pilot: Pilot, typed: str) -> None:
    """The command palette has gathered its matches for ``typed``, the first one highlighted for enter.

    Its search is a worker, started again on every key, that adds its matches when it ends.
    """
    app = pilot.app

    def found() -> bool:
        palette = app.screen
        if not isinstance(palette, CommandPalette) or palette.query_one(CommandInput).value != typed:
            return False
        group = CommandPalette._GATHER_COMMANDS_GROUP  # Textual's name for the search's workers
        searching = any(w.node is palette and w.group == group and not w.is_finished for w in app.workers)
        return not searching and palette.query_one(CommandList).highlighted is not None

    await until(pilot, found)


def app_for(events=None, **kwargs) -> tuple[LooptermApp, ScriptedSource]:
    source = ScriptedSource(script_race() if events is None else events, hold_at=kwargs.pop("hold_at", None))
    kwargs.setdefault("now", lambda: FROZEN)
    app = make_app(source, **kwargs)
    app.animation_level = "none"  # tab underlines and toasts: nothing to wait for
    return app, source


def panes(app: LooptermApp) -> dict[str, LanePane]:
    return {pane.run_id: pane for pane in app.screen.query(LanePane)}


async def finished(pilot: Pilot, app: LooptermApp, source: ScriptedSource) -> None:
    await source.finished.wait()
    await until(
        pilot,
        lambda: all(
            p.lane is not None and p.lane.done and p.outcome == p.lane.outcome and "done" in " ".join(p.lines[:2])
            for p in panes(app).values()
        ),
    )
