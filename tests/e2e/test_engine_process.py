"""The engine in its own process: the viewer only reads its events, so nothing it does moves the clock."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.processes import children
from support.waiting import wait_for

from loopterm.engine import spec_for
from loopterm.events import LaneDone, Outcome, RaceDone, RaceStarted
from loopterm.lanes import resolve
from loopterm.loop.race import RaceConfig
from loopterm.sources import EngineFailed, EngineSource
from loopterm.tasks import find_task
from loopterm.traces.reader import read_race

pytestmark = pytest.mark.anyio

LANES = ["sim:fast-diffusion", "sim:frontier"]


def source(root: Path, *, time_scale: float, max_turns: int = 4) -> EngineSource:
    config = RaceConfig(max_turns=max_turns, time_scale=time_scale, seed=3)
    return EngineSource([resolve(name) for name in LANES], config, find_task(), root)


async def test_a_blocked_viewer_does_not_stop_the_engine_clock(tmp_path: Path) -> None:
    # The viewer's loop is blocked for 2 s while the race runs. The events that arrive in the
    # burst after the block were made during it: their race-clock times spread over the
    # block, instead of all being stamped after it as an in-process race would stamp them.
    # At ×0.03 a frontier turn takes about 2 s and seed 3 needs two: the race runs through
    # the block and ends a couple of seconds after it.
    race = source(tmp_path, time_scale=0.03)
    received: list[tuple[float, object]] = []
    started = asyncio.Event()

    def sink(event: object) -> None:
        received.append((time.monotonic(), event))
        if isinstance(event, RaceStarted):
            started.set()

    task = asyncio.create_task(race.run(sink))
    await asyncio.wait_for(started.wait(), 60)
    time.sleep(2.0)  # the point: the viewer is busy, this loop runs nothing
    unblocked = time.monotonic()
    await asyncio.wait_for(task, 120)
    burst = [e.t for at, e in received if at >= unblocked and at - unblocked < 0.5 and hasattr(e, "t")]
    assert len(burst) >= 5, "the engine made no events while the viewer was blocked"
    assert max(burst) - min(burst) > 1.0, burst
    trace = read_race(race.trace_folder)
    assert trace.status == "complete"


async def test_cancelling_the_source_stops_the_engine_and_keeps_a_complete_aborted_trace(tmp_path: Path) -> None:
    race = source(tmp_path, time_scale=1.0, max_turns=15)  # slow enough to be mid-race
    events: list[object] = []
    task = asyncio.create_task(race.run(events.append))
    await wait_for(lambda: any(isinstance(e, RaceStarted) for e in events), what="the race to start")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 60)
    # The viewer got every lane's end and the race's end, as it would in-process.
    ends = [e for e in events if isinstance(e, LaneDone)]
    assert sorted(e.lane for e in ends) == sorted(lane.run_id for lane in events[0].lanes)  # type: ignore[attr-defined]
    done = [e for e in events if isinstance(e, RaceDone)]
    assert len(done) == 1 and done[0].aborted
    trace = read_race(race.trace_folder)
    assert trace.status == "aborted" and isinstance(trace.events[-1], RaceDone) and trace.events[-1].aborted


async def test_an_engine_that_dies_is_a_clear_error(tmp_path: Path) -> None:
    race = source(tmp_path, time_scale=1.0, max_turns=15)
    events: list[object] = []
    pids_before = children(os.getpid())
    task = asyncio.create_task(race.run(events.append))
    await wait_for(lambda: any(isinstance(e, RaceStarted) for e in events), what="the race to start")
    (engine,) = [pid for pid in children(os.getpid()) if pid not in pids_before and "loopterm.engine" in _cmdline(pid)]
    subprocess.run(["kill", "-9", str(engine)], check=True)
    with pytest.raises(EngineFailed, match="the race engine stopped"):
        await asyncio.wait_for(task, 60)


def test_the_engine_stops_cleanly_when_the_viewer_is_gone(tmp_path: Path) -> None:
    # Its stdin closes (the viewer died): it closes every lane and the trace, marked aborted.
    config = RaceConfig(max_turns=15, time_scale=1.0, seed=3)
    spec = spec_for([resolve(name) for name in LANES], config, tmp_path, None, "race")
    proc = subprocess.Popen(
        [sys.executable, "-m", "loopterm.engine"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write((json.dumps(spec) + "\n").encode())
    proc.stdin.flush()
    line = proc.stdout.readline()
    assert line, proc.stderr.read() if proc.stderr else ""  # the engine said why it stopped
    first = json.loads(line)
    assert first["type"] == "race_started"
    proc.stdin.close()
    rest = proc.stdout.read().decode().splitlines()
    assert proc.wait(timeout=60) == 0
    end = json.loads(rest[-1])
    assert end["engine"] == "end" and end["failure"] is None
    trace = read_race(end["trace"])
    assert trace.status == "aborted" and isinstance(trace.events[-1], RaceDone) and trace.events[-1].aborted


def test_sigint_stops_the_engine_with_a_complete_trace(tmp_path: Path) -> None:
    config = RaceConfig(max_turns=15, time_scale=1.0, seed=3)
    spec = spec_for([resolve(name) for name in LANES], config, tmp_path, None, "race")
    proc = subprocess.Popen(
        [sys.executable, "-m", "loopterm.engine"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write((json.dumps(spec) + "\n").encode())
    proc.stdin.flush()
    line = proc.stdout.readline()
    assert line, proc.stderr.read() if proc.stderr else ""
    assert json.loads(line)["type"] == "race_started"
    proc.send_signal(signal.SIGINT)
    lines = proc.stdout.read().decode().splitlines()
    assert proc.wait(timeout=60) == 0
    assert json.loads(lines[-2])["type"] == "race_done" and json.loads(lines[-2])["aborted"]
    assert read_race(json.loads(lines[-1])["trace"]).status == "aborted"


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


async def test_the_race_clock_starts_only_after_the_viewer_has_drawn(tmp_path: Path) -> None:
    # The viewer takes 1.5 s to draw its panes (``before_clock``). No event may then carry a
    # race time later than the wall time that passed since the viewer said go: the clock
    # started at go, not at RaceStarted. Load only delays arrivals, which loosens this.
    race = source(tmp_path, time_scale=0.03, max_turns=2)
    arrivals: list[tuple[float, object]] = []
    go: list[float] = []

    async def draw_panes() -> None:
        assert isinstance(arrivals[-1][1], RaceStarted)  # the viewer has the lanes to draw
        await asyncio.sleep(1.5)  # the point: a viewer slow to draw
        go.append(time.monotonic())

    race.before_clock = draw_panes
    await asyncio.wait_for(race.run(lambda event: arrivals.append((time.monotonic(), event))), 120)
    assert len(go) == 1
    later = [(at, e) for at, e in arrivals if not isinstance(e, RaceStarted)]
    assert later and all(at >= go[0] for at, _ in later), "an event arrived before the viewer said go"
    for at, event in later:
        assert event.t <= at - go[0] + 0.05, (event, at - go[0])  # type: ignore[attr-defined]
    assert read_race(race.trace_folder).status == "complete"


async def test_quitting_before_the_clock_starts_keeps_a_closed_trace(tmp_path: Path) -> None:
    race = source(tmp_path, time_scale=1.0)
    events: list[object] = []
    waiting = asyncio.Event()

    async def never_drawn() -> None:
        waiting.set()
        await asyncio.sleep(3600)  # the point: a viewer that never draws

    race.before_clock = never_drawn
    task = asyncio.create_task(race.run(events.append))
    await asyncio.wait_for(waiting.wait(), 60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 60)
    ends = [e for e in events if isinstance(e, LaneDone)]
    assert sorted(e.lane for e in ends) == sorted(lane.run_id for lane in events[0].lanes)  # type: ignore[attr-defined]
    assert all(e.outcome == Outcome.ABORTED and e.turns == 0 for e in ends)
    trace = read_race(race.trace_folder)
    assert trace.status == "aborted" and isinstance(trace.events[-1], RaceDone) and trace.events[-1].aborted
