"""Damaged traces: junk that is valid JSON, a lost lane_done, a lost race.json, a torn line after the race."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.in_process import LoopTerm
from support.trace_helpers import hand_race, write_trace

from loopterm.cli import main
from loopterm.events import LaneDone, Outcome, RaceDone, ValidationDone
from loopterm.traces import store
from loopterm.traces.reader import TraceError, read_race


def insert_lines(lane: Path, at: int, lines: list[str]) -> None:
    text = lane.read_text().splitlines()
    lane.write_text("\n".join([*text[:at], *lines, *text[at:]]) + "\n")


@pytest.mark.parametrize(
    ("junk", "why"),
    [
        ('{"hello": 1}', "not an event (no schema)"),
        ("42", "not an event (a JSON int, not an object)"),
        ("null", "not an event (a JSON NoneType, not an object)"),
        ('{"t": 1.0}', "not an event (no schema)"),
        ('{"schema": 0, "type": "turn_started"}', "event schema 0 is older than any loopterm wrote (it writes 1)"),
        ('{"schema": "1", "type": "turn_started"}', "invalid event schema '1'"),
        ('{"schema": true, "type": "turn_started"}', "invalid event schema True"),
    ],
)
def test_valid_json_that_is_no_event_is_skipped_with_file_and_line(tmp_path: Path, junk: str, why: str) -> None:
    folder = write_trace(tmp_path, hand_race())
    insert_lines(folder / "slow.jsonl", 2, [junk])
    trace = read_race(folder)
    assert f"slow.jsonl:3: {why}; line skipped as damaged" in trace.warnings
    assert trace.status == "complete" and len(trace.warnings) == 1
    assert trace.events == read_race(write_trace(tmp_path / "clean", hand_race())).events


def test_only_a_newer_schema_line_refuses_the_trace(tmp_path: Path) -> None:
    folder = write_trace(tmp_path, hand_race())
    insert_lines(folder / "fast.jsonl", 1, ['{"schema": 2, "type": "something_new", "t": 0.1}'])
    with pytest.raises(TraceError, match=r"fast.jsonl:2: written by a newer loopterm \(event schema 2;"):
        read_race(folder)
    # the listing says so too, instead of "complete" (the newer line is a lane's last one here)
    other = write_trace(tmp_path / "b", hand_race())
    with (other / "slow.jsonl").open("a") as fh:
        fh.write('{"schema": 2, "type": "lane_epilogue", "t": 9.0}\n')
    assert store.read_info(other).status == "newer schema"


def test_replay_reads_past_junk_lines(tmp_path: Path, loopterm_main: LoopTerm) -> None:
    root = tmp_path / "traces"
    folder = write_trace(root, hand_race())
    insert_lines(folder / "fast.jsonl", 0, ["null"])
    out = loopterm_main("replay", "--plain", "--speed", "50", "--trace-dir", str(root))
    assert out.returncode == 0
    assert (
        out.stderr == "loopterm: warning: fast.jsonl:1: not an event (a JSON NoneType, not an object); "
        "line skipped as damaged\n"
    )
    # (rescore over junk lines: tests/cli/test_rescore.py)


def test_a_lost_lane_done_after_a_pass_turn_reads_as_pass(tmp_path: Path) -> None:
    events = hand_race()
    validated = [e for e in events if isinstance(e, ValidationDone) and e.lane == "fast"][-1]
    folder = write_trace(tmp_path, events)
    lane = folder / "fast.jsonl"
    lane.write_bytes(lane.read_bytes().rstrip(b"\n").rsplit(b"\n", 1)[0] + b'\n{"schema": 1, "type": "lane_d')
    trace = read_race(folder)
    fast = next(e for e in trace.events if isinstance(e, LaneDone) and e.lane == "fast")
    assert fast.outcome is Outcome.PASS and fast.place is None and fast.turns == 2
    # timed as the engine times it: at the passing validation, from the race start
    assert fast.time_to_pass_s == pytest.approx(validated.t - events[0].t)
    # the race has its end record: the torn line was cut after the race, not "mid-write"
    assert "fast.jsonl: skipped a torn last line (the file was cut short after the race)" in trace.warnings
    assert trace.status == "complete" and not trace.events[-1].aborted  # type: ignore[union-attr]
    times = [e.t for e in trace.events]
    assert times == sorted(times)  # the rebuilt lane_done sits at its passing turn, not after later events


def test_a_completed_race_with_a_lane_cut_short_is_aborted_throughout(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = hand_race()
    folder = write_trace(tmp_path, events)
    lane = folder / "slow.jsonl"
    lines = lane.read_bytes().splitlines(keepends=True)
    lane.write_bytes(b"".join(lines[: len(lines) // 2]))  # slow's last turns and lane_done lost
    trace = read_race(folder)
    slow = next(e for e in trace.events if isinstance(e, LaneDone) and e.lane == "slow")
    assert slow.outcome is Outcome.ABORTED and trace.status == "aborted"
    last = trace.events[-1]
    assert isinstance(last, RaceDone) and last.aborted  # built from the status worked out, not race.json's
    assert main(["replay", str(folder), "--plain", "--speed", "50"]) == 0
    assert "Results (race aborted)" in capsys.readouterr().out


def test_a_folder_whose_race_json_is_lost_is_listed_as_damaged_and_deletable(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], loopterm_main: LoopTerm
) -> None:
    root = tmp_path / "traces"
    folder = write_trace(root, hand_race())
    (folder / "race.json").unlink()
    notes = root / "my-notes"  # a folder of someone else's .jsonl files is never a race
    notes.mkdir()
    (notes / "log.jsonl").write_text('{"level": "info"}\n')
    infos = store.list_races(root)
    assert [(i.name, i.status) for i in infos] == [(folder.name, "damaged")]
    assert "no race.json" in (infos[0].problem or "")
    out = loopterm_main("replay", folder.name, "--plain", "--trace-dir", str(root))
    assert out.returncode == 2 and len(out.stderr.splitlines()) == 1
    assert "race.json is missing" in out.stderr and f"loopterm traces rm {folder.name}" in out.stderr
    assert (folder / "fast.jsonl").is_file()  # refusing to replay kept the lane files
    assert main(["traces", "rm", folder.name[:10], "--yes", "--trace-dir", str(root)]) == 0
    assert not folder.exists()
    assert main(["traces", "rm", "my-notes", "--yes", "--trace-dir", str(root)]) == 2
    assert "no race 'my-notes'" in capfd.readouterr().err
    assert main(["traces", "rm", str(notes), "--yes", "--trace-dir", str(root)]) == 2
    assert notes.is_dir() and "not a loopterm race folder" in capfd.readouterr().err


def test_a_damaged_header_race_is_listed_and_deletable(tmp_path: Path) -> None:
    folder = write_trace(tmp_path, hand_race())
    header = json.loads((folder / "race.json").read_text())
    del header["race_started"]["schema"]
    (folder / "race.json").write_text(json.dumps(header))
    assert store.read_info(folder).status == "damaged"  # not "newer schema": a missing one is not newer
    with pytest.raises(TraceError, match="damaged header"):
        read_race(folder)
    store.remove(folder, tmp_path)
    assert not folder.exists()
