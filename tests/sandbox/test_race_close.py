"""A lane whose client fails to close after its run ended still ends once, as it ended."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.shared_sandbox import SharedSandbox

from loopterm.events import Event, LaneDone, Outcome
from loopterm.lanes import resolve
from loopterm.loop import race as race_mod
from loopterm.loop.race import RaceConfig, run_race
from loopterm.providers.base import ChatMessage, Generation, ProgressCallback, Provider
from loopterm.tasks import find_task
from loopterm.traces.reader import read_race
from loopterm.traces.writer import TraceWriter

pytestmark = pytest.mark.anyio


class CloseFails:
    """The real sim provider, with an SDK client whose close raises (a connection pool gone bad)."""

    def __init__(self, inner: Provider) -> None:
        self.inner = inner

    async def generate(self, messages: list[ChatMessage], on_progress: ProgressCallback | None = None) -> Generation:
        return await self.inner.generate(messages, on_progress)

    async def aclose(self) -> None:
        raise RuntimeError("connection pool closed twice")


async def test_a_failing_close_after_the_run_ended_adds_no_second_end(
    tmp_path: Path, sandbox: SharedSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = race_mod.make_provider
    monkeypatch.setattr(race_mod, "make_provider", lambda *a, **kw: CloseFails(real(*a, **kw)))
    events: list[Event] = []
    writer = TraceWriter(tmp_path)
    result = await run_race(
        [resolve("sim:fast-diffusion")],
        RaceConfig(time_scale=0, seed=5),
        [writer, events.append],
        task=find_task(),
        validator=sandbox,
    )
    writer.close()
    ends = [e for e in events if isinstance(e, LaneDone)]
    # It was a PASS and then an "internal error" ERROR for the same run: two ends, two outcomes.
    assert [e.outcome for e in ends] == [Outcome.PASS]
    assert [d.outcome for d in result.lanes] == [Outcome.PASS]
    assert writer.folder is not None and read_race(writer.folder).warnings == []
