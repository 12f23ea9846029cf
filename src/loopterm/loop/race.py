"""A race: several lane runs, concurrently, on one asyncio loop.

Each run is its own task, so a slow, failing or hung lane never delays
another. Cancelling the race (Ctrl-C) cancels every run; each records
``LaneDone(ABORTED)`` and the race ends with ``RaceDone(aborted=True)`` so the
trace is complete and readable. Benchmarks use the same code with several runs
per lane and a bound on how many run at once.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import secrets
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from loopterm import __version__
from loopterm.events import Event, LaneDone, Outcome, RaceDone, RaceStarted
from loopterm.lanes import Lane
from loopterm.loop.clock import RaceClock
from loopterm.loop.judge import Places
from loopterm.loop.lane import LaneLoop, LoopSettings, Validator
from loopterm.providers import make_provider, preload
from loopterm.tasks import DEFAULT_TASK, Task, find_task

Emit = Callable[[Event], None]


@dataclass
class RaceConfig:
    task_id: str = DEFAULT_TASK
    task_dir: Path | None = None
    max_turns: int = 15
    thrash_k: int = 3
    budget_s: float | None = None
    time_scale: float = 1.0
    seed: int | None = None
    runs: int = 1  # fresh runs per lane (benchmarks)
    concurrency: int | None = None  # lane runs at once; None means all
    kind: Literal["race", "bench"] = "race"
    bench_id: str | None = None


@dataclass(frozen=True)
class LaneRun:
    run_id: str
    lane: Lane
    index: int  # 0-based run number of this lane
    seed: int


@dataclass
class RaceResult:
    race_id: str
    started: RaceStarted
    lanes: list[LaneDone] = field(default_factory=list)
    aborted: bool = False


def new_race_id(now: datetime | None = None) -> str:
    """Sortable and unique enough: UTC time plus 4 random hex digits."""
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "lane"


def derive_seed(seed: int, run_id: str) -> int:
    """A per-run seed that is stable across processes (unlike ``hash``)."""
    digest = hashlib.sha256(f"{seed}:{run_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def plan_runs(lanes: Sequence[Lane], runs: int, seed: int) -> list[LaneRun]:
    planned: list[LaneRun] = []
    used: set[str] = set()
    for lane in lanes:
        base = slug(lane.name)
        name, n = base, 2
        while name in used:
            name, n = f"{base}-{n}", n + 1
        used.add(name)
        for i in range(runs):
            run_id = name if runs == 1 else f"{name}-r{i + 1:02d}"
            planned.append(LaneRun(run_id, lane, i, derive_seed(seed, run_id)))
    return planned


async def run_race(
    lanes: Sequence[Lane],
    config: RaceConfig,
    sinks: Sequence[Emit],
    *,
    task: Task | None = None,
    validator: Validator | None = None,
    race_id: str | None = None,
    clock: Callable[[], float] | None = None,
    before_clock: Callable[[], Awaitable[None]] | None = None,
) -> RaceResult:
    """Run every lane (``config.runs`` times each) and return how each ended.

    ``before_clock``: awaited after ``RaceStarted`` is emitted and before the
    race clock starts. The engine uses it to let a viewer lay out its panes
    and draw them first (``loopterm.engine``), so the viewer's busiest moment,
    on a machine with few cores, is not any lane's time. Cancelled while
    waiting, the race still closes every lane (ABORTED) and itself.
    """
    task = task or find_task(config.task_id, config.task_dir)
    seed = config.seed if config.seed is not None else secrets.randbelow(2**31)
    runs = plan_runs(lanes, config.runs, seed)
    race_id = race_id or new_race_id()
    settings = LoopSettings(config.max_turns, config.thrash_k, config.budget_s)
    gate = asyncio.Semaphore(config.concurrency or max(1, len(runs)))
    place: Places | None = None  # the judge's rule for this race, from its header
    closed: dict[str, LaneDone] = {}  # run id -> how it ended

    def emit(event: Event) -> None:
        nonlocal place
        if isinstance(event, RaceStarted):
            place = Places.of(event)
        elif isinstance(event, LaneDone):
            closed[event.lane] = event
            if place is not None:
                place(event)
        for sink in sinks:
            sink(event)

    async with AsyncExitStack() as stack:
        if validator is None:
            from loopterm.sandbox import Sandbox

            # Warm the sandbox before the clock starts: its start-up is not any lane's time.
            validator = await stack.enter_async_context(Sandbox(task))
        # SDK imports are slow and block the loop: pay for them before the clock starts.
        await asyncio.to_thread(preload, (lane.provider for lane in lanes))
        started = RaceStarted(
            t=0.0 if clock is None else clock(),
            race_id=race_id,
            task_id=task.id,
            task_hash=task.hash,
            lanes=[r.lane.info(r.run_id, r.index) for r in runs],
            max_turns=config.max_turns,
            thrash_k=config.thrash_k,
            budget_s=config.budget_s,
            time_scale=config.time_scale,
            seed=seed,
            started_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            loopterm_version=__version__,
            kind=config.kind,
            bench_id=config.bench_id,
        )
        emit(started)
        if before_clock is not None:
            try:
                await before_clock()
            except asyncio.CancelledError:
                _close_unstarted(runs, RaceClock(), emit, "race stopped before it started")
                raise
        clock = clock or RaceClock()  # t=0 is now: RaceStarted's time
        result = RaceResult(race_id, started)

        async def one(run: LaneRun) -> LaneDone:
            loop: LaneLoop | None = None
            try:
                async with gate:
                    provider = make_provider(run.lane, task=task, seed=run.seed, time_scale=config.time_scale)
                    loop = LaneLoop(
                        run.run_id,
                        run.lane,
                        provider,
                        validator,
                        task,
                        settings,
                        clock,
                        emit,
                        origin_t=started.t if started.timed_from_race_start else None,
                    )
                    try:
                        return await loop.run()
                    finally:
                        closer = getattr(provider, "aclose", None)
                        if closer is not None:  # SDK clients hold connections
                            await closer()
            except Exception as exc:  # a bug or crash in one lane must not stop the others
                if run.run_id in closed:
                    # The run had ended (closing its client failed after): one end per run.
                    return closed[run.run_id]
                done = LaneDone(
                    t=clock(),
                    lane=run.run_id,
                    outcome=Outcome.ERROR,
                    reason=f"internal error: {type(exc).__name__}: {exc}",
                    turns=loop.completed if loop else 0,
                    time_to_pass_s=None,
                    best_score=loop.best if loop else 0.0,
                    final_score=loop.score if loop else 0.0,
                )
                emit(done)
                return done

        tasks = [asyncio.create_task(one(r), name=r.run_id) for r in runs]
        try:
            result.lanes = list(await asyncio.gather(*tasks))
        except asyncio.CancelledError:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            # Runs cancelled before they began: still closed in the trace.
            _close_unstarted(
                [r for r in runs if r.run_id not in closed], clock, emit, "race stopped before this run started"
            )
            result.aborted = True
            raise
    emit(RaceDone(t=clock(), aborted=False))
    return result


def _close_unstarted(runs: Sequence[LaneRun], clock: Callable[[], float], emit: Emit, reason: str) -> None:
    """End a stopped race: each run that never started ABORTED, then the race itself."""
    for run in runs:
        emit(_unstarted(run, clock(), reason))
    emit(RaceDone(t=clock(), aborted=True))


def _unstarted(run: LaneRun, t: float, reason: str) -> LaneDone:
    return LaneDone(
        t=t,
        lane=run.run_id,
        outcome=Outcome.ABORTED,
        reason=reason,
        turns=0,
        time_to_pass_s=None,
        best_score=0.0,
        final_score=0.0,
    )
