"""Pilot helpers shared by the viewer's tests: build an app on a scripted race, await its panes."""

from __future__ import annotations

from collections.abc import Callable

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
        await pilot.pause(0.02)
        waited += 0.02


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
    await until(pilot, lambda: all(p.lane is not None and p.lane.done and p.outcome == p.lane.outcome
                                   and "done" in " ".join(p.lines[:2]) for p in panes(app).values()))
