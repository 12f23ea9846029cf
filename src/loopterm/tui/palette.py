"""The command palette: loopterm's commands in it, Textual's that do not fit left out."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from textual.app import SystemCommand
from textual.command import CommandPalette, SearchIcon
from textual.markup import escape

if TYPE_CHECKING:
    from loopterm.tui.app import LooptermApp


class Palette(CommandPalette):
    """Textual's command palette with a plain ">" prompt: its magnifier emoji is a wide glyph
    many terminal fonts (and tmux) draw badly."""

    def on_mount(self) -> None:
        self.query_one(SearchIcon).icon = ">"


def loopterm_commands(app: LooptermApp, inherited: Iterable[SystemCommand]) -> Iterator[SystemCommand]:
    """Textual's system commands that apply here, then loopterm's: keys, screens, lanes, replay."""
    for command in inherited:
        # Maximize would blow a 2-line compact pane up into an empty screen: the
        # lane's detail screen is the big view of a lane.
        # Textual's "Keys" panel lists its own defaults (copy, ^q), not ours: ours replaces it.
        if command.title not in ("Quit", "Screenshot", "Maximize", "Minimize", "Keys"):
            yield command
    yield SystemCommand(
        "Keys", "The keys of this screen, and what the badges (H/D, SIM, sim x0.2) mean", app.action_keys
    )
    yield SystemCommand("Summary", "The results table (same as --plain)", app.action_summary)
    yield SystemCommand("Chart", "Score against race time for every lane", app.action_chart)
    yield SystemCommand("Screenshot", "Save an SVG screenshot to the trace folder", app.action_screenshot_to_trace)
    for run_id in app.race.lanes:
        name = escape(app.race.display_name(run_id))  # the palette reads its titles as markup
        yield SystemCommand(
            f"Open lane: {name}",
            f"Candidate, feedback and turn history of {name}",
            lambda run_id=run_id: app.action_open_lane(run_id),
        )
    if app.controls is not None:
        for title, key, step in (
            ("pause or resume", "Space", "toggle_pause"),
            ("faster", "+", "faster"),
            ("slower", "-", "slower"),
            ("jump to the end", "e", "jump_to_end"),
            ("restart", "r", "restart"),
        ):
            yield SystemCommand(f"Replay: {title}", key, lambda step=step: app.action_replay(step))
    yield SystemCommand("Quit", "Quit loopterm (asks first while a live race runs)", app.action_quit)
