"""A race or bench stopped before it started (Ctrl-C while the sandbox warms up) writes no trace and says so."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from loopterm.commands import bench, race
from loopterm.lanes import resolve
from loopterm.loop.race import RaceConfig
from loopterm.tasks import find_task

pytestmark = pytest.mark.anyio


async def stopped_at_once(coro) -> int:
    runner = asyncio.create_task(coro)
    await asyncio.sleep(0)  # let it reach its first await (the sandbox starting), then stop it
    runner.cancel()
    return await runner


@pytest.mark.parametrize("as_json", [False, True])
async def test_a_race_stopped_before_it_started(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], as_json: bool
) -> None:
    task = find_task()
    code = await stopped_at_once(
        race._plain([resolve("sim:mini")], RaceConfig(time_scale=0), task, tmp_path, as_json=as_json)
    )
    out = capsys.readouterr()
    assert code == 130 and not any(tmp_path.iterdir())
    assert out.err.strip().splitlines()[-1] == "loopterm: race stopped before it started; no trace was written"
    if as_json:
        assert json.loads(out.out)["trace_dir"] is None  # was the string "None"
    else:
        assert "trace: None" not in out.out


async def test_a_bench_stopped_before_it_started(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    task = find_task()
    config = RaceConfig(time_scale=0, runs=2, kind="bench", bench_id="x")
    code = await stopped_at_once(bench._plain([resolve("sim:mini")], config, task, tmp_path, "x", as_json=False))
    assert code == 130 and not any(tmp_path.iterdir())
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        "loopterm: bench stopped before it started; no trace was written"
    )
