"""Failures that are not the model's: a crashing handler explained, a dying sandbox retried."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from loopterm.events import GenerationDone, LaneDone, Outcome, TurnDone, TurnStatus
from loopterm.lanes import resolve
from loopterm.loop.race import RaceConfig, run_race
from loopterm.sandbox import Sandbox
from loopterm.sandbox.runner import run_suite
from loopterm.tasks import find_task

pytestmark = pytest.mark.anyio

CRASHING = """from fastapi import FastAPI, Request
app = FastAPI()

@app.post("/quotes")
async def create(request: Request):
    body = await request.json()
    return {"x": body["nope"]}
"""


async def test_a_crashing_handler_is_explained_to_the_model() -> None:
    task = find_task("quote-approval")
    results = await run_suite(task.suite, CRASHING)
    create = next(r for r in results if r.id == "shape.create_201_json")
    assert not create.passed
    assert "got 500" in create.message
    assert "KeyError at line 7: 'nope'" in create.message


async def test_a_dead_sandbox_worker_is_retried_not_blamed_on_the_model(tmp_path: Path) -> None:
    task = find_task("quote-approval")
    killed: list[int] = []
    async with Sandbox(task) as sandbox:

        def kill_worker_once(event: object) -> None:
            # Right before the first validation, the warm worker dies.
            if isinstance(event, GenerationDone) and not killed and sandbox.worker_pid:
                killed.append(sandbox.worker_pid)
                os.kill(sandbox.worker_pid, signal.SIGKILL)

        events: list = []
        lane = resolve("sim:frontier")
        await run_race(
            [lane],
            RaceConfig(time_scale=0, seed=11, max_turns=4),
            [kill_worker_once, events.append],
            task=task,
            validator=sandbox,
        )
        assert killed and sandbox.worker_pid not in (None, killed[0])  # a new worker took over
    turns = [e for e in events if isinstance(e, TurnDone)]
    done = next(e for e in events if isinstance(e, LaneDone))
    assert TurnStatus.ERROR not in {t.status for t in turns}
    assert done.outcome is not Outcome.ERROR
    assert turns[0].total == 47 and turns[0].passed > 0  # turn 1 was really validated, on the retry
