"""A lane whose turns are scripted: a real sim model's answer, no code, or a failed model call.

The answers with code are the sim model's own (the task's reference with real
faults, fixed from the real feedback); the script only says which turns have
no code or fail, so a test can put a no-code turn or an ERROR exactly where it
needs one and run it through the real loop, sandbox and suite.
"""

from __future__ import annotations

from collections.abc import Sequence

from loopterm.events import Event, RaceDone
from loopterm.lanes import resolve
from loopterm.loop.clock import RaceClock
from loopterm.loop.lane import LaneLoop, LoopSettings, Validator
from loopterm.providers import make_provider
from loopterm.providers.base import ChatMessage, ErrorKind, Generation, ProgressCallback, Provider
from loopterm.tasks import Task
from support.event_builders import race_started

NO_CODE = "I have reviewed the failures and the approach looks right to me; no change needed."
PROVIDER_ERROR = "server error 500 after 2 retries"


class Scripted:
    """Each turn as scripted: "sim" (the real sim model's answer), "none" (no code) or "error" (a failed call)."""

    def __init__(self, inner: Provider, script: Sequence[str]) -> None:
        self.inner = inner
        self.script = list(script)

    async def generate(self, messages: list[ChatMessage], on_progress: ProgressCallback | None = None) -> Generation:
        step = self.script.pop(0)
        if step == "none":
            return Generation(text=NO_CODE, generation_s=0.01)
        if step == "error":
            return Generation(error=PROVIDER_ERROR, error_kind=ErrorKind.SERVER_ERROR)
        return await self.inner.generate(messages, on_progress)


async def scripted_run(task: Task, validator: Validator, script: Sequence[str], **settings: int) -> list[Event]:
    """One weak-local lane (run id "weak"; it never passes: a floor of faults) through the real loop,
    as a whole race: its header, the lane's events and the race's end."""
    lane = resolve("sim:weak-local")
    provider = Scripted(make_provider(lane, task=task, seed=3, time_scale=0), script)
    rules = LoopSettings(**settings)
    events: list[Event] = [
        race_started(
            [lane.info("weak", 0)],
            race_id="20260101-000000-abcd",
            task_hash=task.hash,
            max_turns=rules.max_turns,
            thrash_k=rules.thrash_k,
        )
    ]
    await LaneLoop("weak", lane, provider, validator, task, rules, RaceClock(), events.append).run()
    events.append(RaceDone(t=events[-1].t + 0.001))
    return events
