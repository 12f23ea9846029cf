"""One judge: recorded races rescored on an unchanged suite are judged exactly as the race judged them.

The races are real (sim lanes, the real loop, sandbox and suite; recorded
with the real TraceWriter and read back), so the live loop's verdicts and
rescore's come from the same recorded answers. A sandbox that fails under a
rescore makes an ERROR, never the model's FAIL.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
from collections.abc import Sequence
from pathlib import Path

import pytest
from support.paths import CANDIDATES
from support.processes import until_a_candidate_runs
from support.scripted_model import PROVIDER_ERROR, scripted_run
from support.shared_sandbox import SharedSandbox
from support.trace_helpers import lane_turns, started, write_trace

from loopterm.commands.rescore import sandbox_failures
from loopterm.events import Event, LaneDone, Outcome, RaceDone, TurnDone, TurnStatus, ValidationDone
from loopterm.lanes import resolve
from loopterm.loop.race import RaceConfig, run_race
from loopterm.sandbox import Limits, Sandbox
from loopterm.tasks import Task, find_task
from loopterm.traces.reader import RaceTrace, read_race
from loopterm.traces.rescore import rescore_events
from loopterm.traces.writer import TraceWriter

pytestmark = pytest.mark.anyio

SIM_LANES = ("sim:fast-diffusion", "sim:frontier", "sim:mini", "sim:weak-local")


def judged(events: Sequence[Event]) -> dict[str, list[tuple]]:
    """Per lane, everything the judge decides: each turn's verdict and the lane's end."""
    out: dict[str, list[tuple]] = {}
    for e in events:
        if isinstance(e, TurnDone):
            out.setdefault(e.lane, []).append(
                (e.turn, e.status, e.score, e.passed, e.total, e.best_score, e.fixed, e.broke, e.no_code)
            )
        elif isinstance(e, LaneDone):
            out.setdefault(e.lane, []).append(
                (e.outcome, e.reason, e.turns, e.best_score, e.final_score, e.time_to_pass_s is None)
            )
    return out


def failing(events: Sequence[Event]) -> dict[str, list[list[str]]]:
    """Per lane, each validation's failing check ids (their messages carry random ids, so not those)."""
    out: dict[str, list[list[str]]] = {}
    for e in events:
        if isinstance(e, ValidationDone):
            out.setdefault(e.lane, []).append([c.id for c in e.result.failing])
    return out


def assert_places_follow_the_finish(trace: RaceTrace, new: list[Event]) -> None:
    """The same lanes placed, in the order they passed in each (timings differ, so the order may too)."""
    for events in (trace.events, new):
        passed = [e for e in events if isinstance(e, LaneDone) and e.outcome is Outcome.PASS]
        ranked = trace.started.bench_id is None
        assert [e.place for e in sorted(passed, key=lambda e: e.t)] == (
            list(range(1, len(passed) + 1)) if ranked else [None] * len(passed)
        )


async def record(tmp_path: Path, events: Sequence[Event]) -> RaceTrace:
    return read_race(write_trace(tmp_path / "traces", events))


@pytest.mark.parametrize(
    ("seed", "config"),
    [
        (1, {}),  # weak-local answers once with no code, then thrashes
        (4, {}),  # two no-code answers
        (5, {"max_turns": 3}),  # lanes stopped by the turn limit
        (2, {"kind": "bench", "bench_id": "b", "runs": 2}),  # a bench: no places, each run timed from its start
    ],
)
async def test_recorded_races_rescored_on_the_unchanged_suite_are_judged_the_same(
    task: Task, sandbox: SharedSandbox, tmp_path: Path, seed: int, config: dict
) -> None:
    writer = TraceWriter(tmp_path / "traces")
    lanes = [resolve(name) for name in (SIM_LANES[:3] if "runs" in config else SIM_LANES)]
    await run_race(lanes, RaceConfig(time_scale=0, seed=seed, **config), [writer], task=task, validator=sandbox)
    writer.close()
    assert writer.folder is not None
    trace = read_race(writer.folder)
    assert trace.warnings == [] and trace.status == "complete"

    new = await rescore_events(trace, task, sandbox)
    assert judged(new) == judged(trace.events)
    assert failing(new) == failing(trace.events)
    assert_places_follow_the_finish(trace, new)
    if seed in (1, 4):  # the races these seeds were chosen for
        assert any(e.no_code for e in new if isinstance(e, TurnDone))


@pytest.mark.parametrize("script", [["sim", "error"], ["sim", "none", "sim", "none", "error"]])
async def test_an_error_turn_is_judged_the_same(
    task: Task, sandbox: SharedSandbox, tmp_path: Path, script: list[str]
) -> None:
    # The live loop carried the code in place through an ERROR turn; rescore used to write 0 passed.
    events = await scripted_run(task, sandbox, script, thrash_k=0)
    trace = await record(tmp_path, events)
    new = await rescore_events(trace, task, sandbox)
    assert judged(new) == judged(events)
    error = [e for e in new if isinstance(e, TurnDone)][-1]
    assert error.status is TurnStatus.ERROR and error.passed > 0
    (done,) = [e for e in new if isinstance(e, LaneDone)]
    assert (done.outcome, done.reason) == (Outcome.ERROR, PROVIDER_ERROR)


async def test_a_sandbox_failure_during_rescore_is_an_infrastructure_error_not_a_fail(tmp_path: Path) -> None:
    task_dir = tmp_path / "tasks"
    shutil.copytree(CANDIDATES / "task", task_dir)
    task = find_task("mini", task_dir)
    slow = (CANDIDATES / "import_loop.py").read_text()  # loads until its load timeout: time to kill the runner
    # Recorded: the slow candidate failed every check (the model's FAIL), then the turn limit.
    recorded = lane_turns("a", 0.01, [[]], codes=[slow], outcome=Outcome.TURN_LIMIT)
    head = started(lanes=("a",), max_turns=1)
    trace = await record(tmp_path, [head, *recorded, RaceDone(t=recorded[-1].t + 0.01)])
    assert [e.status for e in trace.events if isinstance(e, TurnDone)] == [TurnStatus.FAIL]

    killed: list[int] = []
    async with Sandbox(task, limits=Limits(load_timeout_s=5.0, run_timeout_s=5.0)) as box:

        async def kill_every_runner() -> None:  # the sandbox dies under every try, retries included
            while True:
                pid = await until_a_candidate_runs(box, not_on=killed)
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)

        killer = asyncio.create_task(kill_every_runner())
        try:
            new = await asyncio.wait_for(rescore_events(trace, task, box), 120)  # a hang fails, not waits
        finally:
            killer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await killer
    assert len(killed) >= 2  # the sandbox's own second try and the loop's

    (validation,) = [e for e in new if isinstance(e, ValidationDone)]
    reason = validation.result.infrastructure_error
    assert reason is not None and reason.startswith("the sandbox's check runner died")
    (turn,) = [e for e in new if isinstance(e, TurnDone)]
    assert turn.status is TurnStatus.ERROR  # not FAIL: the model is not blamed for the sandbox
    (done,) = [e for e in new if isinstance(e, LaneDone)]
    assert (done.outcome, done.reason, done.turns) == (Outcome.ERROR, reason, 1)
    # the command says so, once per lane, naming the lane as the tables do
    (line,) = sandbox_failures(new, {"a": "A"})
    assert line.startswith("A: the sandbox failed while rescoring turn 1 (the sandbox's check runner died")
    assert line.endswith("run rescore again")
