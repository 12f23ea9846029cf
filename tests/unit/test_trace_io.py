"""The trace writer and reader: complete, torn, damaged, interrupted, newer schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.event_builders import lane_info, race_started
from support.trace_helpers import write_trace

from loopterm.events import LaneDone, LaneStarted, Outcome, RaceDone, RaceStarted, TurnDone, TurnStarted, TurnStatus
from loopterm.traces.reader import TraceError, read_race


def started(race_id: str = "20261122-000000-abcd") -> RaceStarted:
    return race_started([lane_info("a", "A", "frontier"), lane_info("b", "B", "mini")], race_id=race_id)


def turn_done(lane: str, turn: int, t: float, score: float) -> TurnDone:
    status = TurnStatus.PASS if score == 1 else TurnStatus.PARTIAL
    return TurnDone(
        t=t,
        lane=lane,
        turn=turn,
        status=status,
        score=score,
        passed=int(score * 10),
        total=10,
        best_score=score,
        model_s=0.1,
        validation_s=0.05,
        harness_s=0.001,
    )


def race_events(aborted: bool = False) -> list:
    return [
        started(),
        LaneStarted(t=0.01, lane="a"),
        LaneStarted(t=0.02, lane="b"),
        TurnStarted(t=0.03, lane="a", turn=1),
        TurnStarted(t=0.04, lane="b", turn=1),
        turn_done("b", 1, 0.5, 0.5),
        turn_done("a", 1, 0.7, 1.0),
        LaneDone(
            t=0.71,
            lane="a",
            outcome=Outcome.PASS,
            reason="passed",
            turns=1,
            time_to_pass_s=0.7,
            best_score=1.0,
            final_score=1.0,
            place=1,
        ),
        LaneDone(
            t=0.9,
            lane="b",
            outcome=Outcome.THRASH,
            reason="stuck",
            turns=1,
            time_to_pass_s=None,
            best_score=0.5,
            final_score=0.5,
        ),
        RaceDone(t=0.95, aborted=aborted),
    ]


def test_round_trip_gives_back_the_same_events(tmp_path: Path) -> None:
    events = race_events()
    folder = write_trace(tmp_path, events)
    assert sorted(p.name for p in folder.iterdir()) == ["a.jsonl", "b.jsonl", "race.json"]
    trace = read_race(folder)
    assert trace.status == "complete"
    assert trace.warnings == []
    assert trace.events == events
    assert json.loads((folder / "race.json").read_text())["status"] == "complete"


def test_a_lane_file_alone_reads_that_lane(tmp_path: Path) -> None:
    folder = write_trace(tmp_path, race_events())
    trace = read_race(folder / "b.jsonl")
    assert [lane.run_id for lane in trace.started.lanes] == ["b"]
    assert {getattr(e, "lane", "b") for e in trace.events} == {"b"}


def test_killed_race_reads_as_aborted_with_closing_events(tmp_path: Path) -> None:
    events = race_events()[:7]  # a passed, b mid-turn, no race_done: the process was killed
    folder = write_trace(tmp_path, events)
    header = json.loads((folder / "race.json").read_text())
    assert header["status"] == "running"
    trace = read_race(folder)
    assert trace.status == "aborted"
    done = [e for e in trace.events if isinstance(e, LaneDone)]
    # a's PASS turn is recorded (only its lane_done is missing): it passed; b was mid-turn
    assert {e.lane: e.outcome for e in done} == {"a": Outcome.PASS, "b": Outcome.ABORTED}
    assert isinstance(trace.events[-1], RaceDone) and trace.events[-1].aborted
    assert any("no end record" in w for w in trace.warnings)


def test_torn_last_line_is_skipped_and_named(tmp_path: Path) -> None:
    folder = write_trace(tmp_path, race_events())
    lane = folder / "b.jsonl"
    data = lane.read_bytes()
    lane.write_bytes(data[: len(data) - 20])  # cut inside b's lane_done line
    trace = read_race(folder)
    assert any("torn last line" in w for w in trace.warnings)
    b_done = next(e for e in trace.events if isinstance(e, LaneDone) and e.lane == "b")
    assert b_done.outcome is Outcome.ABORTED  # its real lane_done was the torn line
    assert trace.status == "aborted"


def test_damaged_middle_line_is_skipped_and_the_rest_kept(tmp_path: Path) -> None:
    folder = write_trace(tmp_path, race_events())
    lane = folder / "a.jsonl"
    lines = lane.read_text().splitlines()
    lines[1] = "{not json"
    lane.write_text("\n".join(lines) + "\n")
    trace = read_race(folder)
    assert any("a.jsonl:2: damaged line skipped" in w for w in trace.warnings)
    assert any(isinstance(e, LaneDone) and e.lane == "a" and e.outcome is Outcome.PASS for e in trace.events)


def test_newer_schema_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    folder = write_trace(tmp_path, race_events())
    lane = folder / "a.jsonl"
    lines = lane.read_text().splitlines()
    lines[0] = lines[0].replace('"schema":1', '"schema":99')
    lane.write_text("\n".join(lines) + "\n")
    with pytest.raises(TraceError, match=r"a.jsonl:1: written by a newer loopterm \(event schema 99;.*upgrade"):
        read_race(folder)


def test_not_a_trace(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match="no such trace"):
        read_race(tmp_path / "missing")
    with pytest.raises(TraceError, match="not a loopterm race folder"):
        read_race(tmp_path)
    (tmp_path / "race.json").write_text("{")
    with pytest.raises(TraceError, match="damaged header"):
        read_race(tmp_path)


def test_an_answer_with_a_lone_surrogate_is_written_with_a_replacement_character() -> None:
    # JSON's "\ud800" decodes to a lone surrogate, which UTF-8 cannot encode: such a model
    # answer (or a candidate's error text) must not stop the race's trace.
    from loopterm.events import GenerationDone, dump_event, load_event

    event = GenerationDone(t=1.0, lane="a", turn=1, text="ok \ud800 then \udfff", ttft_s=0.1, generation_s=0.5)
    line = dump_event(event)
    line.encode("utf-8")  # a real UTF-8 line
    back = load_event(line)
    assert isinstance(back, GenerationDone)
    assert back.text == "ok \ufffd then \ufffd"
    assert back.model_dump(exclude={"text"}) == event.model_dump(exclude={"text"})
