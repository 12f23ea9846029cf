"""When the terminal goes away: SIGTERM and SIGHUP stop the race so its trace ends cleanly.

A dropped SSH session or a killed tmux sends SIGHUP (and SIGCONT); the viewer
then stops drawing, resumes nothing, and shuts down through the same path as
a quit, so every lane is recorded ABORTED and the trace is complete.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from contextlib import suppress
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from loopterm.tui.app import LooptermApp


def catch_signals(app: LooptermApp) -> None:
    """SIGTERM, or SIGHUP from a dropped SSH session: stop the race so its trace ends cleanly."""
    loop = asyncio.get_running_loop()
    with suppress(NotImplementedError, RuntimeError, ValueError):  # not on this platform/thread
        loop.add_signal_handler(signal.SIGTERM, lambda: app.call_later(app.shutdown))
    # SIGHUP gets a plain handler, not a loop callback: it must run at once, before
    # Textual's SIGCONT handler (the kernel sends both on a hang-up) tries to bring
    # the dead terminal back, and even if a write to it has already stalled the loop.
    with suppress(ValueError):  # not the main thread
        signal.signal(signal.SIGHUP, lambda signum, frame: _on_hangup(app, loop))


def _on_hangup(app: LooptermApp, loop: asyncio.AbstractEventLoop) -> None:
    if terminal_gone():
        app.lose_terminal()
    loop.call_soon_threadsafe(lambda: app.call_later(app.shutdown))


def terminal_gone() -> bool:
    """True when the terminal Textual draws on (stderr) has hung up: even an empty write fails."""
    stream = sys.__stderr__
    if stream is None:
        return True
    try:
        os.write(stream.fileno(), b"")
    except (OSError, ValueError):
        return True
    return False
