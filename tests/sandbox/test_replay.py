"""ReplaySource: recorded timing on a fake clock, keys, no drift, same final state."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from support.loop_ticks import loop_ticks_during
from support.shared_sandbox import SharedSandbox
from support.trace_helpers import hand_race
from support.waiting import wait_for

from loopterm.events import Event, GenerationProgress, RaceDone, RaceStarted
from loopterm.racestate import RaceState
from loopterm.traces.reader import read_race
from loopterm.traces.replay import SPEEDS, ReplaySource, check_speed

pytestmark = pytest.mark.anyio


class FakeTime:
    """A clock that only moves when the replay sleeps (or a test moves it).

    ``at(t, fn)`` runs ``fn`` when fake time reaches ``t``; a sleep that
    crosses it wakes up right there, as a key press wakes a real replay.
    ``overshoot`` makes every sleep late by a random 0 to N seconds.
    """

    def __init__(self, overshoot: float = 0.0, seed: int = 0) -> None:
        self.now = 100.0  # not zero: the replay must not assume the clock starts at 0
        self.timers: list[tuple[float, Callable[[], None]]] = []
        self.overshoot = overshoot
        self.rng = random.Random(seed)
        self.sleeps: list[float] = []
        self.total_overshoot = 0.0

    def clock(self) -> float:
        return self.now

    def at(self, t: float, fn: Callable[[], None]) -> None:
        self.timers.append((t, fn))
        self.timers.sort(key=lambda x: x[0])

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        target = self.now + seconds
        if self.timers and self.timers[0][0] <= target:
            at, fn = self.timers.pop(0)
            self.now = max(self.now, at)
            fn()
            return
        late = self.rng.uniform(0, self.overshoot) if self.overshoot else 0.0
        self.total_overshoot += late
        self.now = target + late
        await asyncio.sleep(0)


class Recorder:
    """A sink noting each event with the fake time it arrived."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.got: list[tuple[float, Event]] = []
        self.hooks: dict[int, Callable[[], None]] = {}  # after the n-th event (0-based)

    def __call__(self, event: Event) -> None:
        self.got.append((self.clock(), event))
        hook = self.hooks.pop(len(self.got) - 1, None)
        if hook is not None:
            hook()

    @property
    def events(self) -> list[Event]:
        return [e for _, e in self.got]


def replay(events: list[Event], speed: float = 1.0, **kw: object) -> tuple[ReplaySource, FakeTime, Recorder]:
    fake = FakeTime(**kw)  # type: ignore[arg-type]
    source = ReplaySource(events, speed, clock=fake.clock, sleep=fake.sleep)
    return source, fake, Recorder(fake.clock)


def lateness(rec: Recorder, start: float, speed: float = 1.0) -> list[float]:
    return [(at - start) - e.t / speed for at, e in rec.got]


def final_state(events: list[Event]) -> RaceState:
    state = RaceState()
    for event in events:
        state.apply(event)
    return state


@pytest.fixture
def events() -> list[Event]:
    return hand_race()


async def test_at_1x_every_event_arrives_at_its_recorded_time(events: list[Event]) -> None:
    source, fake, rec = replay(events)
    start = fake.now
    await source.run(rec)
    assert rec.events == events
    late = lateness(rec, start)
    assert max(abs(x) for x in late) < 1e-5  # exact on a fake clock; the promise is 50 ms
    assert fake.now - start == pytest.approx(events[-1].t)
    assert source.done


async def test_late_wake_ups_do_not_add_up(events: list[Event]) -> None:
    # Every sleep oversleeps by up to 20 ms. Summing sleeps would drift by the
    # total; scheduling against the clock keeps each event within one oversleep.
    long_race = [e.model_copy(update={"t": e.t * 10}) for e in events]
    source, fake, rec = replay(long_race, overshoot=0.02, seed=7)
    start = fake.now
    await source.run(rec)
    late = lateness(rec, start)
    assert fake.total_overshoot > 0.3  # drift a naive replay would have shown
    assert min(late) >= -1e-5  # never early
    assert max(late) <= 0.02 + 1e-5  # never more than one oversleep late
    assert rec.events == long_race


@pytest.mark.parametrize("speed", [0.5, 2.0, 5.0, 50.0])
async def test_speed_scales_the_recorded_times(events: list[Event], speed: float) -> None:
    source, fake, rec = replay(events, speed)
    start = fake.now
    await source.run(rec)
    assert rec.events == events
    assert max(abs(x) for x in lateness(rec, start, speed)) < 1e-5


async def test_speed_change_mid_wait_takes_effect_at_once() -> None:
    # A 100 s gap between two events; at 10 s in, the viewer presses "faster" to 50x:
    # the remaining 90 s of race time take 1.8 s, not the rest of the 100 s sleep.
    head = hand_race()[0]
    events = [head, GenerationProgress(t=100.0, lane="fast", turn=1, chars=1, tokens=1), RaceDone(t=101.0)]
    source, fake, rec = replay(events)
    start = fake.now
    fake.at(start + 10, lambda: source.set_speed(50))
    await source.run(rec)
    arrived = [at - start for at, _ in rec.got]
    assert arrived == pytest.approx([0.0, 10 + 90 / 50, 10 + 91 / 50])


async def test_faster_and_slower_step_through_the_speeds() -> None:
    source = ReplaySource(hand_race(), 1.0)
    seen = []
    for _ in range(len(SPEEDS) + 1):
        source.faster()
        seen.append(source.speed)
    assert seen == [2, 5, 10, 20, 50, 50, 50, 50]
    for _ in range(len(SPEEDS) + 1):
        source.slower()
    assert source.speed == 0.5
    odd = ReplaySource(hand_race(), 3.0)
    odd.faster()
    assert odd.speed == 5
    odd = ReplaySource(hand_race(), 3.0)
    odd.slower()
    assert odd.speed == 2
    with pytest.raises(ValueError, match=r"between 0\.5 and 50, not 100"):
        check_speed(100)
    with pytest.raises(ValueError, match=r"between 0\.5 and 50"):
        ReplaySource(hand_race(), 0.1)


async def test_pause_stops_time_and_resume_goes_on_where_it_stopped(events: list[Event]) -> None:
    source, fake, rec = replay(events)
    start = fake.now
    pause_after = 10
    paused = asyncio.Event()

    def press_pause() -> None:
        source.toggle_pause()
        paused.set()

    rec.hooks[pause_after] = press_pause
    task = asyncio.create_task(source.run(rec))
    await paused.wait()
    position = source.position()
    fake.now += 30.0  # half a minute on the wall while paused
    await asyncio.sleep(0)
    assert source.paused and source.position() == position  # race time stood still
    assert (
        len(rec.got)
        == pause_after
        + 1
        + sum(  # only events due at the same instant went out
            1 for e in events[pause_after + 1 :] if e.t <= events[pause_after].t
        )
    )
    source.toggle_pause()
    await task
    assert rec.events == events
    late = lateness(rec, start)
    assert max(abs(x) for x in late[: pause_after + 1]) < 1e-5
    assert late[-1] == pytest.approx(30.0)  # everything after the pause is exactly 30 s later
    assert max(abs(x - 30.0) for x in late[pause_after + 1 :]) < 1e-5


async def test_jump_to_end_sends_everything_left_at_once(events: list[Event]) -> None:
    source, fake, rec = replay(events)
    start = fake.now
    fake.at(start + 1.0, source.jump_to_end)
    await source.run(rec)
    assert rec.events == events
    after = [at for at, e in rec.got if e.t > 1.0]
    assert after and all(at == start + 1.0 for at in after)
    assert source.position() == pytest.approx(events[-1].t)
    assert final_state(rec.events) == final_state(events)


async def test_restart_sends_again_from_race_started(events: list[Event]) -> None:
    source, fake, rec = replay(events, 5.0)
    start = fake.now
    rec.hooks[20] = source.restart
    await source.run(rec)
    restarted_at = rec.got[20][0]
    assert rec.events == events[:21] + events
    assert isinstance(rec.got[21][1], RaceStarted) and rec.got[21][0] == restarted_at
    second = rec.got[21:]
    assert max(abs((at - restarted_at) - e.t / 5.0) for at, e in second) < 1e-5
    # the reducer resets on race_started: the picture is the same as one clean pass
    assert final_state(rec.events) == final_state(events)
    assert fake.now > start


async def test_hold_at_end_waits_for_a_restart(events: list[Event]) -> None:
    fake = FakeTime()
    source = ReplaySource(events, 50.0, clock=fake.clock, sleep=fake.sleep, hold_at_end=True)
    rec = Recorder(fake.clock)
    finished = asyncio.Event()
    rec.hooks[len(events) - 1] = finished.set
    task = asyncio.create_task(source.run(rec))
    await finished.wait()
    await asyncio.sleep(0)
    assert not task.done() and source.done
    fake.now += 600  # the viewer stays open: its race clock stays at the race's end
    assert source.position() == events[-1].t
    again = asyncio.Event()
    rec.hooks[2 * len(events) - 1] = again.set
    source.restart()
    await again.wait()
    assert rec.events == events + events
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


async def test_restart_while_paused_shows_the_start_and_stays_paused(events: list[Event]) -> None:
    source, fake, rec = replay(events)
    shown = asyncio.Event()

    def pause_then_restart() -> None:
        source.toggle_pause()
        source.restart()

    rec.hooks[15] = pause_then_restart
    rec.hooks[16] = shown.set  # race_started again
    task = asyncio.create_task(source.run(rec))
    await shown.wait()
    await asyncio.sleep(0)
    assert isinstance(rec.got[16][1], RaceStarted) and source.paused
    count = len(rec.got)
    fake.now += 100
    await asyncio.sleep(0)
    assert len(rec.got) == count
    source.jump_to_end()
    await task
    assert final_state(rec.events) == final_state(events)


async def test_a_key_from_another_thread_wakes_the_replay() -> None:
    head = hand_race()[0]
    events = [head, RaceDone(t=3600.0)]  # an hour away: only the key ends this test
    source = ReplaySource(events)
    got: list[Event] = []
    task = asyncio.create_task(source.run(got.append))
    await wait_for(lambda: got, what="the race's first event")
    await asyncio.to_thread(source.jump_to_end)
    await asyncio.wait_for(task, 60)  # a deadline only: without the key the race ends in an hour
    assert got == events


async def test_real_clock_timing_sanity() -> None:
    head = hand_race()[0]
    times = [0.05 * k for k in range(1, 9)]
    events = [
        head,
        *(GenerationProgress(t=t, lane="fast", turn=1, chars=k, tokens=k) for k, t in enumerate(times)),
        RaceDone(t=0.45),
    ]
    arrived: list[float] = []
    source = ReplaySource(events)
    start = time.monotonic()
    _, ticks = await loop_ticks_during(source.run(lambda e: arrived.append(time.monotonic() - start)))
    late = [a - e.t for a, e in zip(arrived, events, strict=True)]
    assert min(late) > -0.005  # never early (beyond clock granularity)
    # It waited on the real clock in seconds: about 9 ticks of 50 ms for the race's 0.45 s
    # (counted, not timed: a stalled machine costs a tick, not the stall; drift is proven
    # on the fake clock above).
    assert ticks < 40, ticks


async def test_replay_of_a_live_race_ends_in_the_live_race_final_state(tmp_path: Path, sandbox: SharedSandbox) -> None:
    from loopterm.lanes import resolve
    from loopterm.loop.race import RaceConfig, run_race
    from loopterm.traces.writer import TraceWriter

    live_state = RaceState()
    live_events: list[Event] = []
    writer = TraceWriter(tmp_path)
    lanes = [resolve("sim:fast-diffusion"), resolve("sim:weak-local")]
    await run_race(
        lanes,
        RaceConfig(time_scale=0, seed=5, max_turns=5),
        [writer, live_events.append, live_state.apply],
        validator=sandbox,
    )
    assert writer.folder is not None
    trace = read_race(writer.folder)
    assert trace.warnings == [] and trace.events == live_events

    for speed, key in [(1.0, None), (50.0, None), (0.5, "jump"), (2.0, "restart")]:
        source, fake, rec = replay(trace.events, speed)
        state = RaceState()

        def sink(event: Event, state: RaceState = state, rec: Recorder = rec) -> None:
            state.apply(event)
            rec(event)

        if key == "jump":
            rec.hooks[len(trace.events) // 2] = source.jump_to_end
        elif key == "restart":
            rec.hooks[len(trace.events) // 3] = source.restart
        start = fake.now
        await source.run(sink)
        assert state == live_state, (speed, key)
        if key is None:
            assert max(abs(x) for x in lateness(rec, start, speed)) < 1e-5
