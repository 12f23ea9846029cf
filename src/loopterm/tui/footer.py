"""The key bindings line at the bottom of every screen, fitted for replays.

A replay binds five more keys (pause, speed, end, restart), so its footers
are compact (one space between keys) and leave out the "^p palette" hint:
that way every key still shows at 80 columns. Ctrl+P opens the palette on
every screen either way.
"""

from __future__ import annotations

from textual.app import App
from textual.widgets import Footer


def make_footer(app: App) -> Footer:
    replay = getattr(app, "controls", None) is not None
    return Footer(compact=replay, show_command_palette=not replay)
