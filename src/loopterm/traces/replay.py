"""Play a recorded race back with its recorded timing, under the viewer's keys.

``ReplaySource`` is an ``EventSource`` (``live`` is False) and the
``ReplayControls`` behind the replay keys. Timing is scheduled against a
replay clock, never by adding up sleeps: the replay keeps an anchor (a real
clock reading and the race time it stood for) and the race time now is
``anchor_t + (clock() - anchor_clock) * speed``, frozen while paused. Each
event is sent when that race time reaches the event's ``t``. A late wake-up
or a slow viewer therefore delays one event, it never shifts every later one,
and a speed change or a pause just moves the anchor.

The same events in the same order reach the sink at every speed, with a
restart or a jump to the end, so a replay's final state equals the live
race's (the reducer resets itself on ``race_started``, which a restart
re-sends).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence

from loopterm.events import Event, EventSink
from loopterm.traces.reader import RaceTrace

SPEEDS: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0)
MIN_SPEED = SPEEDS[0]
MAX_SPEED = SPEEDS[-1]
# An event this close to due counts as due: clock arithmetic in floats can leave
# a remainder too small for any sleep to move the clock past, and waiting for
# it would spin. A microsecond early is invisible.
DUE_EPS_S = 1e-6

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[object]]


def check_speed(speed: float) -> float:
    """``speed`` itself when it is within 0.5x to 50x; ValueError (one clear line) otherwise."""
    if not MIN_SPEED <= speed <= MAX_SPEED:
        raise ValueError(f"replay speed must be between {MIN_SPEED:g} and {MAX_SPEED:g}, not {speed:g}")
    return float(speed)


class ReplaySource:
    """Send a trace's events to a sink at their recorded times, scaled by ``speed``.

    ``clock`` (seconds, monotonic) and ``sleep`` (an awaitable delay) are
    injectable so tests can run a replay on a fake clock. With
    ``hold_at_end`` the replay waits at the end for a ``restart`` and
    ``run`` only returns when cancelled (a viewer that stays open); without
    it ``run`` returns once the last event is sent.
    """

    live = False

    def __init__(
        self,
        trace: RaceTrace | Sequence[Event],
        speed: float = 1.0,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        hold_at_end: bool = False,
    ) -> None:
        events = trace.events if isinstance(trace, RaceTrace) else trace
        self.events: list[Event] = list(events)
        if not self.events:
            raise ValueError("a replay needs at least one event")
        self.speed = check_speed(speed)
        self.paused = False
        self.hold_at_end = hold_at_end
        self._clock = clock
        self._sleep = sleep
        self.start_t = self.events[0].t
        self.end_t = max(e.t for e in self.events)
        self._anchor_t = self.start_t  # race time at the anchor
        self._anchor_clock = clock()
        self._index = 0  # the next event to send
        self._restart = False
        self._jump = False
        self._changed: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # ---- the replay clock -------------------------------------------------

    def position(self) -> float:
        """The race time being shown now (the recorded ``t`` the replay has reached).

        It never passes the last event: a replay held at its end shows the race's end time.
        """
        if self.paused:
            return min(self._anchor_t, self.end_t)
        return min(self._anchor_t + (self._clock() - self._anchor_clock) * self.speed, self.end_t)

    def _reanchor(self, at: float | None = None) -> None:
        self._anchor_t = self.position() if at is None else at
        self._anchor_clock = self._clock()

    @property
    def done(self) -> bool:
        """Every event has been sent (and no restart is pending)."""
        return self._index >= len(self.events) and not self._restart

    @property
    def sent(self) -> int:
        """How many events of this pass have been sent."""
        return self._index

    # ---- ReplayControls ---------------------------------------------------

    def toggle_pause(self) -> None:
        self._reanchor()
        self.paused = not self.paused
        self._notify()

    def set_speed(self, speed: float) -> None:
        self._reanchor()  # the race time reached so far stays; only the rate changes
        self.speed = check_speed(speed)
        self._notify()

    def faster(self) -> None:
        self.set_speed(next((s for s in SPEEDS if s > self.speed), MAX_SPEED))

    def slower(self) -> None:
        self.set_speed(next((s for s in reversed(SPEEDS) if s < self.speed), MIN_SPEED))

    def jump_to_end(self) -> None:
        self._jump = True
        self._notify()

    def restart(self) -> None:
        self._restart = True
        self._jump = False
        self._notify()

    def _notify(self) -> None:
        changed, loop = self._changed, self._loop
        if changed is None or loop is None:
            return  # not running yet: run() reads the flags when it starts
        try:
            same_loop = asyncio.get_running_loop() is loop
        except RuntimeError:
            same_loop = False
        if same_loop:
            changed.set()
        else:
            loop.call_soon_threadsafe(changed.set)  # a key handler on another thread

    # ---- EventSource ------------------------------------------------------

    async def run(self, sink: EventSink) -> None:
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()
        self._reanchor(self._anchor_t)
        events = self.events
        try:
            while True:
                self._changed.clear()
                if self._restart:
                    self._restart = False
                    self._index = 0
                    self._reanchor(self.start_t)
                if self._jump:
                    self._jump = False
                    while self._index < len(events):
                        sink(events[self._index])
                        self._index += 1
                    self._reanchor(max(self.position(), self.end_t))
                # Everything due by now goes out together; time is read once per batch
                # so one slow sink call cannot make the batch look late and skip a wait.
                now = self.position()
                while self._index < len(events) and events[self._index].t <= now + DUE_EPS_S:
                    sink(events[self._index])
                    self._index += 1
                    if self._restart or self._jump:
                        break  # a sink pressed a key: act on it before sending more
                if self._restart or self._jump:
                    continue
                if self._index >= len(events):
                    if not self.hold_at_end:
                        return
                    await self._changed.wait()  # only a restart brings more events
                    continue
                if self.paused:
                    await self._changed.wait()
                    continue
                delay = (events[self._index].t - self.position()) / self.speed
                await self._wait(delay)
        finally:
            self._changed = None
            self._loop = None

    async def _wait(self, delay: float) -> None:
        """Sleep ``delay`` seconds, or less when a control changes the schedule."""
        if delay <= 0:
            await asyncio.sleep(0)  # let the viewer breathe between batches
            return
        assert self._changed is not None
        if self._changed.is_set():
            return
        sleeper = asyncio.ensure_future(self._sleep(delay))
        waker = asyncio.ensure_future(self._changed.wait())
        try:
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waker):
                if not task.done():
                    task.cancel()
            await asyncio.gather(sleeper, waker, return_exceptions=True)
