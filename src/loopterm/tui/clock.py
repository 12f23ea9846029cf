"""The viewer's race clock: what time it is in the race being watched.

The reducer never reads a clock; the panes' ticking timers do, through a
``now()`` injected into the app. By default that is this ``ViewClock``: it
follows the events (each event's ``t`` is the race time at which it
happened) and runs on between them at the replay speed, or stands still while
a replay is paused. For a live race the speed is 1, so it is the race clock.
Tests inject a frozen clock instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from loopterm.sources import ReplayControls


class ViewClock:
    def __init__(
        self,
        controls: ReplayControls | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._controls = controls
        self._monotonic = monotonic
        self._shown = 0.0
        self._last: float | None = None  # monotonic time of the previous reading
        self._running = False

    def start(self, t: float) -> None:
        """A race (or a replay's restart) began at race time ``t``."""
        self._shown = t
        self._last = self._monotonic()
        self._running = True

    def stop(self, t: float) -> None:
        """The race is over: the clock stands at ``t``."""
        self._shown = max(self._shown, t)
        self._running = False

    def saw(self, t: float) -> None:
        """An event at race time ``t`` arrived: never show an earlier time than that."""
        self._advance()
        self._shown = max(self._shown, t)

    def _advance(self) -> None:
        now = self._monotonic()
        if self._last is not None and self._running:
            controls = self._controls
            if controls is None:
                self._shown += now - self._last
            elif not controls.paused:
                self._shown += (now - self._last) * controls.speed
        self._last = now

    def __call__(self) -> float:
        self._advance()
        return self._shown
