"""An answer with no code, through the real loop, sandbox and suite: the code in place keeps its score.

A scripted model (support/scripted_model.py) answers with a real sim model's code on
some turns and with no code (or a failed call) on others; the pane, the plain
line and the trace show the implementation still in place, marked "no code".
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from support.scripted_model import scripted_run
from support.shared_sandbox import SharedSandbox

from loopterm.events import Event, LaneDone, Outcome, TurnDone, TurnStatus, ValidationDone
from loopterm.plain.console import plain_console
from loopterm.plain.race import PlainPrinter
from loopterm.racestate import RaceState
from loopterm.tasks import Task
from loopterm.traces.reader import read_race
from loopterm.traces.writer import TraceWriter
from loopterm.tui.glyphs import UNICODE
from loopterm.tui.panetext import full_lines, plain_style

pytestmark = pytest.mark.anyio


def turns(events: Sequence[Event]) -> list[TurnDone]:
    return [e for e in events if isinstance(e, TurnDone)]


def failing(events: Sequence[Event], turn: int) -> set[str]:
    (done,) = [e for e in events if isinstance(e, ValidationDone) and e.turn == turn]
    return {c.id for c in done.result.failing}


async def test_a_no_code_turn_scores_the_code_in_place_and_breaks_nothing(task: Task, sandbox: SharedSandbox) -> None:
    events = await scripted_run(task, sandbox, ["sim", "none", "sim", "none", "error"], thrash_k=0)
    one, blank, three, blank_again, error = turns(events)
    assert one.status is TurnStatus.PARTIAL and 0 < one.passed < one.total
    # the answer had no code: FAIL, but the code in place still passes what it passed, and nothing broke
    assert (blank.status, blank.no_code) == (TurnStatus.FAIL, True)
    assert (blank.score, blank.passed, blank.total, blank.fixed, blank.broke) == (
        one.score,
        one.passed,
        one.total,
        [],
        [],
    )
    # the next code is compared with the code in place (turn 1's), not with an answer that had none
    assert three.fixed == sorted(failing(events, 1) - failing(events, 3))
    assert three.broke == sorted(failing(events, 3) - failing(events, 1))
    assert (blank_again.passed, blank_again.score) == (three.passed, three.score)
    # an ERROR turn carries the code in place too
    assert (error.status, error.passed, error.score) == (TurnStatus.ERROR, three.passed, three.score)
    (done,) = [e for e in events if isinstance(e, LaneDone)]
    assert done.outcome is Outcome.ERROR and done.final_score == three.score


async def test_a_lane_ending_on_a_no_code_turn_shows_the_code_in_place(task: Task, sandbox: SharedSandbox) -> None:
    events = await scripted_run(task, sandbox, ["sim", "none"], max_turns=2)
    one, _ = turns(events)
    (done,) = [e for e in events if isinstance(e, LaneDone)]
    assert done.outcome is Outcome.TURN_LIMIT and done.final_score == one.score > 0

    # the pane: the code in place's score and failing checks, the turn marked "no code", nothing "broke"
    state = RaceState()
    for event in events:
        state.apply(event)
    lane = state.lanes["weak"]
    assert (lane.passed, lane.total, lane.no_code) == (one.passed, one.total, True)
    assert {c.id for c in lane.failing} == failing(events, 1)
    lines = [t.plain for t in full_lines(lane, state, 9.0, 60, 14, UNICODE, plain_style)]
    score = next(line for line in lines if line.endswith("%"))
    assert score.endswith(f"{one.passed}/{one.total} {one.score:.0%}")
    history = next(line for line in lines if "FAIL" in line)
    assert "no code" in history and "broke" not in history

    # the plain printer's line for that turn
    out = io.StringIO()
    printer = PlainPrinter(plain_console(out))
    for event in events:
        printer(event)
    line = next(line for line in out.getvalue().splitlines() if "turn  2/2" in line)
    assert f"FAIL    {one.passed}/{one.total}" in line and line.endswith("no code") and "broke" not in line


async def test_a_trace_written_before_no_code_was_recorded_reads_as_judged_now(
    task: Task, sandbox: SharedSandbox, tmp_path: Path
) -> None:
    events = await scripted_run(task, sandbox, ["sim", "none"], max_turns=2)
    writer = TraceWriter(tmp_path)
    for event in events:
        writer(event)
    writer.close()
    assert writer.folder is not None
    current = read_race(writer.folder)
    assert [e for e in current.events if e.type != "race_done"] == events[:-1]  # this loopterm's trace: as written

    # The same turns as an older loopterm wrote them: the no-code turn scored 0, everything broken.
    one, blank = turns(events)
    lane_file = writer.folder / "weak.jsonl"
    old_lines = []
    for line in lane_file.read_text().splitlines():
        data = json.loads(line)
        if data["type"] == "turn_done":
            del data["no_code"]
            if data["turn"] == 2:
                data.update(score=0.0, passed=0, broke=sorted({c.id for c in task.suite.checks} - failing(events, 1)))
        if data["type"] == "lane_done":
            data["final_score"] = 0.0
        old_lines.append(json.dumps(data))
    lane_file.write_text("\n".join(old_lines) + "\n")

    old = read_race(writer.folder)
    assert old.warnings == []
    assert turns(old.events) == [one, blank]
    (done,) = [e for e in old.events if isinstance(e, LaneDone)]
    assert done.final_score == one.score and done.outcome is Outcome.TURN_LIMIT
