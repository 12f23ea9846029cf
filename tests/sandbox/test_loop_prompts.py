"""What the loop sends each turn: the real task prompts, real code, the real sandbox.

Turn 1 is the task's first prompt (goal, contract, rules, output format).
Every later turn re-sends the goal and contract, the current implementation
and the validator's feedback on it, also after an answer with no code.
"""

from __future__ import annotations

import pytest
from support.shared_sandbox import SharedSandbox

from loopterm.events import Event, TurnDone, TurnStatus, ValidationDone
from loopterm.faults import apply_faults
from loopterm.lanes import resolve
from loopterm.loop.clock import RaceClock
from loopterm.loop.lane import LaneLoop, LoopSettings
from loopterm.providers.base import ChatMessage, Generation, ProgressCallback
from loopterm.tasks import Task

pytestmark = pytest.mark.anyio


class Scripted:
    """A model that gives these answers in turn and keeps every prompt it was sent."""

    def __init__(self, answers: list[str]) -> None:
        self.answers = list(answers)
        self.prompts: list[list[ChatMessage]] = []

    async def generate(self, messages: list[ChatMessage], on_progress: ProgressCallback | None = None) -> Generation:
        self.prompts.append(messages)
        return Generation(text=self.answers.pop(0), ttft_s=0.0, generation_s=0.0)


def fenced(code: str) -> str:
    return f"Here is the file.\n\n```python\n{code}```\n"


async def run(task: Task, sandbox: SharedSandbox, answers: list[str]) -> tuple[Scripted, list[Event]]:
    model = Scripted(answers)
    events: list[Event] = []
    loop = LaneLoop(
        "lane", resolve("sim:mini"), model, sandbox, task, LoopSettings(thrash_k=0), RaceClock(), events.append
    )
    await loop.run()
    return model, events


async def test_each_turn_sends_the_goal_contract_code_and_feedback(task: Task, sandbox: SharedSandbox) -> None:
    broken = apply_faults(task.reference_source, task.faults[:1])
    model, events = await run(
        task, sandbox, [fenced(broken), "Looks right to me, no change.", fenced(task.reference_source)]
    )
    statuses = [e.status for e in events if isinstance(e, TurnDone)]
    assert statuses == [TurnStatus.PARTIAL, TurnStatus.FAIL, TurnStatus.PASS]
    first, after_code, after_no_code = ([m["content"] for m in p] for p in model.prompts)

    # One fresh user message a turn: no chat history.
    assert all(len(p) == 1 and p[0]["role"] == "user" for p in model.prompts)
    assert first == [task.first_prompt()]
    assert "# Goal" in first[0] and task.openapi in first[0] and task.rules in first[0]
    assert "# What to output" in first[0]

    turn1 = next(e for e in events if isinstance(e, ValidationDone) and e.turn == 1)
    failing = [c.id for c in turn1.result.checks if not c.passed]
    assert failing and all(check in turn1.feedback for check in failing)
    assert after_code == [task.fix_prompt(broken, turn1.feedback, 2)]
    for text in (after_code[0], after_no_code[0]):
        assert "# Goal" in text and task.openapi in text and task.rules in text
        assert f"```python\n{broken}\n```" in text  # the current implementation

    # After the answer with no code the implementation is still turn 1's; its feedback
    # still stands and goes with it (it used to be only "send code", no failing check).
    assert "no Python code block" in after_no_code[0]
    assert turn1.feedback in after_no_code[0]
    assert all(check in after_no_code[0] for check in failing)


async def test_a_no_code_first_answer_has_no_feedback_to_repeat(task: Task, sandbox: SharedSandbox) -> None:
    model, events = await run(task, sandbox, ["I would use FastAPI.", fenced(task.reference_source)])
    second = model.prompts[1][0]["content"]
    assert "no Python code block" in second and "still stands" not in second
    assert "(no implementation yet)" in second
    assert [e.status for e in events if isinstance(e, TurnDone)] == [TurnStatus.FAIL, TurnStatus.PASS]
