"""The race clock: monotonic seconds since the race started."""

from __future__ import annotations

import time
from collections.abc import Callable


class RaceClock:
    def __init__(self, source: Callable[[], float] = time.monotonic) -> None:
        self._source = source
        self._start = source()

    def __call__(self) -> float:
        return self._source() - self._start
