"""Rescoring: recorded answers judged again by the real sandbox against the current suite."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from support.event_builders import lane_info
from support.in_process import LoopTerm
from support.paths import CANDIDATES
from support.trace_helpers import lane_turns, started, write_trace

from loopterm.events import (
    Event,
    GenerationDone,
    LaneDone,
    Outcome,
    RaceDone,
    TurnDone,
    TurnStarted,
    TurnStatus,
    ValidationDone,
)
from loopterm.feedback import format_feedback
from loopterm.loop.lane import no_code_turn_feedback
from loopterm.sandbox import Sandbox
from loopterm.tasks import find_task
from loopterm.traces.reader import read_race
from loopterm.traces.rescore import rescore_events

MINI = CANDIDATES / "task"
NO_ECHO = """from fastapi import FastAPI

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}
"""
VERSION_CHECK = """

@SUITE.check("version", "shape", "GET /version names the version")
async def version(ctx: CheckContext) -> None:
    r = await ctx.client.get("/version")
    assert r.status_code == 200, f"GET /version: expected 200, got {r.status_code}"
"""


def by(events: list[Event], lane: str, cls: type) -> list:
    return [e for e in events if isinstance(e, cls) and e.lane == lane]


@pytest.fixture
def task_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "tasks"
    shutil.copytree(MINI, folder)
    return folder


def recorded_race(task_dir: Path) -> list[Event]:
    """Four lanes whose recorded judgments the current suite will not all agree with.

    a: no-echo, then the reference: PASS on turn 2.
    b: no-echo, reference, no-echo, no code, reference; recorded as failing all
       five turns up to the turn limit (the suite of the day was harsher).
    c: one partial turn, then the model call failed: ERROR.
    d: one partial turn, then the race was stopped: ABORTED.
    """
    ref = (task_dir / "validation" / "mini" / "reference.py").read_text()
    head = started(lanes=("a", "b", "c", "d"), max_turns=5, thrash_k=2)
    head.task_hash = find_task("mini", task_dir).hash
    a = lane_turns("a", 0.01, [["hello", "missing"], ["hello", "echo", "missing"]], codes=[NO_ECHO, ref])
    b = lane_turns(
        "b",
        0.02,
        [["hello"], ["hello"], ["hello"], [], ["hello"]],
        turn_s=1.5,
        codes=[NO_ECHO, ref, NO_ECHO, None, ref],
        outcome=Outcome.TURN_LIMIT,
    )
    c = lane_turns("c", 0.03, [["hello"]], codes=[NO_ECHO])[:-1]
    c += [
        TurnStarted(t=1.1, lane="c", turn=2),
        GenerationDone(
            t=3.0, lane="c", turn=2, text="", ttft_s=None, generation_s=1.9, error="HTTP 429", error_kind="rate_limit"
        ),
        TurnDone(
            t=3.01,
            lane="c",
            turn=2,
            status=TurnStatus.ERROR,
            score=1 / 3,
            passed=1,
            total=3,
            best_score=1 / 3,
            model_s=1.9,
            validation_s=0.0,
            harness_s=0.01,
        ),
        LaneDone(
            t=3.02,
            lane="c",
            outcome=Outcome.ERROR,
            reason="HTTP 429",
            turns=2,
            time_to_pass_s=None,
            best_score=1 / 3,
            final_score=1 / 3,
        ),
    ]
    d = lane_turns("d", 0.04, [["hello"]], codes=[NO_ECHO], outcome=Outcome.ABORTED)
    body = sorted(a + b + c + d, key=lambda e: e.t)
    return [head, *body, RaceDone(t=body[-1].t + 0.01)]


@pytest.mark.anyio
async def test_rescore_against_the_same_suite_stops_lanes_that_now_pass_earlier(task_dir: Path, tmp_path: Path) -> None:
    old_events = recorded_race(task_dir)
    trace = read_race(write_trace(tmp_path / "traces", old_events))
    task = find_task("mini", task_dir)
    async with Sandbox(task) as sandbox:
        new = await rescore_events(trace, task, sandbox)

    head = new[0]
    assert head.kind == "rescore" and head.rescore_of == trace.race_id and head.race_id != trace.race_id
    assert head.task_hash == task.hash and head.lanes == trace.started.lanes
    assert isinstance(new[-1], RaceDone) and not new[-1].aborted
    assert [e.t for e in new] == sorted(e.t for e in new)

    assert [d.status for d in by(new, "a", TurnDone)] == [TurnStatus.PARTIAL, TurnStatus.PASS]
    # b was recorded failing; its turn-2 answer is the reference, so it passes there now and stops
    b_turns = by(new, "b", TurnDone)
    assert [(d.status, d.passed) for d in b_turns] == [(TurnStatus.PARTIAL, 2), (TurnStatus.PASS, 3)]
    assert b_turns[1].fixed == ["echo"] and b_turns[1].broke == []
    assert not [e for e in new if getattr(e, "lane", None) == "b" and getattr(e, "turn", 0) > 2]
    done = {e.lane: e for e in new if isinstance(e, LaneDone)}
    assert done["a"].outcome is Outcome.PASS and done["a"].place == 1
    assert done["b"].outcome is Outcome.PASS and done["b"].place == 2 and done["b"].turns == 2
    assert done["c"].outcome is Outcome.ERROR and done["c"].reason == "HTTP 429"
    c_first, c_error = by(new, "c", TurnDone)
    # the ERROR turn carries the code in place, as the live loop records it
    assert c_error.status is TurnStatus.ERROR and (c_error.score, c_error.passed) == (c_first.score, c_first.passed)
    assert done["d"].outcome is Outcome.ABORTED and done["d"].turns == 1

    # timing: recorded generation times kept; the validations' own new times replace the old ones
    for lane in "ab":
        old_lane, new_lane = trace.lane_events(lane), [e for e in new if getattr(e, "lane", None) == lane]
        for old_gen, new_gen in zip(
            by(old_lane, lane, GenerationDone), by(new_lane, lane, GenerationDone), strict=False
        ):
            assert new_gen.generation_s == old_gen.generation_s and new_gen.text == old_gen.text
        shift = 0.0
        for turn, (old_v, new_v) in enumerate(
            zip(by(old_lane, lane, ValidationDone), by(new_lane, lane, ValidationDone), strict=False), start=1
        ):
            old_td = by(old_lane, lane, TurnDone)[turn - 1]
            new_td = by(new_lane, lane, TurnDone)[turn - 1]
            assert 0 < new_td.validation_s < 30 and new_td.model_s == old_td.model_s
            shift += new_td.validation_s - old_td.validation_s
            assert new_v.t == pytest.approx(old_v.t + shift)
            assert new_v.feedback == format_feedback(new_v.result)
            assert new_v.result.duration_ms > 0
        # a race's time to pass counts from the race start, like the live race's
        assert done[lane].time_to_pass_s == pytest.approx(by(new, lane, ValidationDone)[-1].t - new[0].t)

    # what the writer stores reads back as the same race
    folder = write_trace(tmp_path / "traces", new)
    again = read_race(folder)
    assert again.status == "complete" and again.warnings == [] and again.events == new


@pytest.mark.anyio
async def test_rescore_against_a_changed_suite(task_dir: Path, tmp_path: Path) -> None:
    old_events = recorded_race(task_dir)
    trace = read_race(write_trace(tmp_path / "traces", old_events))
    checks = task_dir / "validation" / "mini" / "checks.py"
    checks.write_text(checks.read_text() + VERSION_CHECK)  # a fourth check nobody passes
    task = find_task("mini", task_dir)
    async with Sandbox(task) as sandbox:
        new = await rescore_events(trace, task, sandbox)

    a = by(new, "a", TurnDone)
    assert [(d.status, d.passed, d.total) for d in a] == [(TurnStatus.PARTIAL, 2, 4), (TurnStatus.PARTIAL, 3, 4)]
    done = {e.lane: e for e in new if isinstance(e, LaneDone)}
    assert done["a"].outcome is Outcome.ABORTED and done["a"].place is None
    assert "recorded answers end at turn 2" in done["a"].reason and "PASS" in done["a"].reason
    # b: 2/4 best, 3/4 best, 2/4 stale, no code (turn 3's 2/4 still in place) stale -> THRASH with k=2 on turn 4
    b = by(new, "b", TurnDone)
    assert [(d.status, d.passed, d.no_code) for d in b] == [
        (TurnStatus.PARTIAL, 2, False),
        (TurnStatus.PARTIAL, 3, False),
        (TurnStatus.PARTIAL, 2, False),
        (TurnStatus.THRASH, 2, True),
    ]
    # a no-code answer breaks nothing: the implementation did not change
    assert b[2].broke == ["echo"] and (b[3].fixed, b[3].broke) == ([], []) and b[3].total == 4
    no_code = by(new, "b", ValidationDone)[3]
    # as the loop does, a no-code answer's feedback re-sends the standing feedback on the last code
    standing = by(new, "b", ValidationDone)[2].feedback
    assert no_code.code is None and no_code.result.total == 4
    assert no_code.feedback == no_code_turn_feedback(standing) and standing in no_code.feedback
    assert done["b"].outcome is Outcome.THRASH and done["b"].turns == 4 and done["b"].best_score == 0.75
    assert done["b"].final_score == 0.5  # the code in place, not the answer that had none
    assert done["b"].reason == "no new best score in 2 turns (best 75%)"
    assert by(new, "c", TurnDone)[1].total == 4


def test_cli_rescore_writes_a_new_trace_and_prints_old_vs_new(
    task_dir: Path, tmp_path: Path, loopterm_main: LoopTerm
) -> None:
    root = tmp_path / "traces"
    old = write_trace(root, recorded_race(task_dir))
    out = loopterm_main("rescore", old.name[:10], "--task-dir", str(task_dir), "--trace-dir", str(root), "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["rescore_of"] == old.name and data["suite_changed"] is False
    lanes = {lane["run_id"]: lane for lane in data["lanes"]}
    assert lanes["b"]["old"]["outcome"] == "TURN_LIMIT" and lanes["b"]["new"]["outcome"] == "PASS"
    assert lanes["b"]["old"]["turns"] == 5 and lanes["b"]["new"]["turns"] == 2
    new = read_race(Path(data["trace_dir"]))
    assert new.started.kind == "rescore" and new.started.rescore_of == old.name and new.status == "complete"

    listing = json.loads(loopterm_main("traces", "--json", "--trace-dir", str(root)).stdout)
    assert [(r["kind"], r["rescore_of"]) for r in listing] == [("rescore", old.name), ("race", None)]

    plain = loopterm_main("rescore", old.name, "--task-dir", str(task_dir), "--trace-dir", str(root), "--plain")
    assert plain.returncode == 0, plain.stderr
    lines = plain.stdout.splitlines()
    assert lines[0] == f"rescore of race {old.name} · task mini · the suite is unchanged since the race"
    row_b = next(line for line in lines if line.strip().startswith("B "))
    assert "turn limit t5" in row_b and "PASS t2" in row_b and row_b.rstrip().endswith("changed")
    assert "rescoring 9 recorded answers" in plain.stderr
    assert lines[-1].startswith("trace: ")


def test_cli_rescore_bad_input(task_dir: Path, tmp_path: Path, loopterm_main: LoopTerm) -> None:
    root = tmp_path / "traces"
    old = write_trace(root, recorded_race(task_dir))
    out = loopterm_main("rescore", old.name, "--trace-dir", str(root), "--task-dir", str(tmp_path / "none"))
    assert out.returncode == 2 and "task 'mini' not found" in out.stderr and len(out.stderr.splitlines()) == 1
    out = loopterm_main("rescore", "zzz", "--trace-dir", str(root))
    assert out.returncode == 2 and "no race 'zzz'" in out.stderr
    out = loopterm_main("rescore", "--trace-dir", str(tmp_path / "empty"))
    assert out.returncode == 2 and len(out.stderr.splitlines()) == 1, out.stderr


def test_cli_rescore_with_no_id_rescores_the_newest_race(
    task_dir: Path, tmp_path: Path, loopterm_main: LoopTerm
) -> None:
    # As replay, export and report do.
    root = tmp_path / "traces"
    old = write_trace(root, recorded_race(task_dir))
    out = loopterm_main("rescore", "--task-dir", str(task_dir), "--trace-dir", str(root), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["rescore_of"] == old.name


def test_cli_rescore_numbers_lanes_that_share_a_name(task_dir: Path, tmp_path: Path, loopterm_main: LoopTerm) -> None:
    # Two runs of one sim lane: every other view calls them "Mini (sim) #1" and "#2", so does rescore.
    ref = (task_dir / "validation" / "mini" / "reference.py").read_text()
    head = started(lanes=("mini", "mini-2"), max_turns=2)
    head.task_hash = find_task("mini", task_dir).hash
    head.lanes = [lane_info("mini", "Mini (sim)", "mini"), lane_info("mini-2", "Mini (sim)", "mini")]
    one = lane_turns("mini", 0.01, [["hello", "echo", "missing"]], codes=[ref])
    two = lane_turns("mini-2", 0.02, [["hello"], ["hello"]], codes=[NO_ECHO, NO_ECHO])
    body = sorted(one + two, key=lambda e: e.t)
    root = tmp_path / "traces"
    old = write_trace(root, [head, *body, RaceDone(t=body[-1].t + 0.01)])

    out = loopterm_main("rescore", old.name, "--task-dir", str(task_dir), "--trace-dir", str(root), "--plain")
    assert out.returncode == 0, out.stderr
    rows = [line.strip() for line in out.stdout.splitlines() if line.strip().startswith("Mini")]
    assert [row.split("  ")[0] for row in rows] == ["Mini (sim) #1", "Mini (sim) #2"]
    assert "PASS t1" in rows[0] and "turn limit t2" in rows[1]
    data = json.loads(
        loopterm_main("rescore", old.name, "--task-dir", str(task_dir), "--trace-dir", str(root), "--json").stdout
    )
    assert [(lane["run_id"], lane["label"]) for lane in data["lanes"]] == [
        ("mini", "Mini (sim) #1"),
        ("mini-2", "Mini (sim) #2"),
    ]


def test_cli_rescore_reads_past_lines_that_are_json_but_no_event(
    task_dir: Path, tmp_path: Path, loopterm_main: LoopTerm
) -> None:
    root = tmp_path / "traces"
    old = write_trace(root, recorded_race(task_dir))
    lane = old / "b.jsonl"
    lines = lane.read_text().splitlines()
    lane.write_text("\n".join([lines[0], '{"hello": 1}', "42", *lines[1:]]) + "\n")
    out = loopterm_main("rescore", old.name, "--task-dir", str(task_dir), "--trace-dir", str(root), "--json")
    assert out.returncode == 0, out.stderr
    assert "loopterm: warning: b.jsonl:2: not an event (no schema); line skipped as damaged" in out.stderr
    assert "loopterm: warning: b.jsonl:3: not an event (a JSON int, not an object)" in out.stderr
    lanes = {lane["run_id"]: lane for lane in json.loads(out.stdout)["lanes"]}
    assert lanes["b"]["new"]["outcome"] == "PASS" and lanes["b"]["new"]["turns"] == 2  # as without the junk
