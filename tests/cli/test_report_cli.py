"""``loopterm report``: formats, id resolution, merging and bad input, on hand-built traces."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from support.bench_events import Run, race

from loopterm.cli import main
from loopterm.stats.export import CSV_FIELDS, DETAIL_COLUMNS, RESULT_COLUMNS
from loopterm.traces.writer import TraceWriter

FIRST = "20261122-100000-aaaa"
SECOND = "20261122-110000-bbbb"


def store(root: Path, events: list) -> Path:
    writer = TraceWriter(root)
    for event in events:
        writer(event)
    assert writer.folder is not None
    return writer.folder


@pytest.fixture
def traces(tmp_path: Path) -> Path:
    store(
        tmp_path,
        race(
            [
                Run("a-r01", [0.5, 1.0], cost=0.01),
                Run("a-r02", [1.0], cost=0.01),
                Run("b-r01", [0.1, 0.125], name="Weak | local", model="w", outcome="THRASH", lane_class="L/AR"),
            ],
            FIRST,
        ),
    )
    store(tmp_path, race([Run("a-r01", [0.25, 0.5, 1.0], cost=0.01)], SECOND, kind="race"))
    return tmp_path


def report(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["report", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_default_is_the_newest_race(traces: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = report(capsys, "--trace-dir", str(traces), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["ids"] == [SECOND]
    assert [r["run_id"] for r in data["runs"]] == ["a-r01"]


def test_ids_prefixes_and_folders_merge_lanes(traces: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = report(capsys, "20261122-10", str(traces / SECOND), "--trace-dir", str(traces), "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["ids"] == [FIRST, SECOND]
    rows = {r["lane"]: r for r in data["rows"]}
    assert rows["Lane A"]["runs"] == 3 and rows["Lane A"]["passed"] == 3
    assert rows["Lane A"]["median_iterations"] == 2.0
    assert rows["Lane A"]["cost_per_passed_run"] == pytest.approx(0.06 / 3)  # 6 turns at 0.01
    assert rows["Weak | local"]["best_failed_score"] == 0.125


def test_the_same_race_twice_counts_once(traces: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = report(capsys, FIRST, FIRST[:17], "--trace-dir", str(traces), "--format", "json")
    data = json.loads(out)
    assert data["ids"] == [FIRST] and len(data["runs"]) == 3


def test_markdown_has_the_talks_columns_and_escapes_pipes(traces: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = report(capsys, FIRST, "--trace-dir", str(traces), "--format", "md")
    assert code == 0
    lines = out.splitlines()
    header = next(line for line in lines if line.startswith("| Lane | Class"))
    assert [c.strip() for c in header.strip("|").split("|")] == list(RESULT_COLUMNS)
    detail = next(line for line in lines if line.startswith("| Lane | Mean Time To Pass"))
    assert [c.strip() for c in detail.strip("|").split("|")] == list(DETAIL_COLUMNS)
    assert "| Lane A (sim) | H/D | 2/2 | 1 | 1.5 | 1.9 s | 2.5 s | n/a | 0 |" in lines
    assert "| Weak \\| local (sim) | L/AR | 0/1 | 0 | n/a | n/a | 2.5 s | 12% | 0 |" in lines


def test_csv_parses_with_every_field(traces: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = report(capsys, FIRST, "--trace-dir", str(traces), "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert tuple(rows[0]) == CSV_FIELDS
    assert [r["lane"] for r in rows] == ["Lane A", "Weak | local"]
    assert rows[0]["runs"] == "2" and rows[0]["one_shot"] == "1"
    assert float(rows[0]["mean_time_to_pass_s"]) == pytest.approx(1.875)
    assert rows[1]["median_iterations"] == ""  # n/a is an empty cell


def test_table_format_and_lane_filter(traces: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = report(capsys, FIRST, "--trace-dir", str(traces), "--lanes", "weak | local")
    assert code == 0
    assert "Weak | local" in out and "Lane A" not in out
    assert "Runs Passed" in out and "0/1" in out


def test_a_unique_prefix_of_the_shown_name_picks_a_lane(traces: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = report(capsys, FIRST, "--trace-dir", str(traces), "--lanes", "WEAK")
    assert code == 0
    assert "Weak | local" in out and "Lane A" not in out


def test_unknown_lane_names_the_lanes_there_are(traces: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = report(capsys, FIRST, "--trace-dir", str(traces), "--lanes", "nope")
    assert code == 2
    assert err.strip() == (
        "loopterm: error: no lane matches nope; lanes in these races: Lane A (sim), Weak | local (sim)"
    )


def test_bad_ids_get_one_clear_line(traces: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = report(capsys, "2026", "--trace-dir", str(traces))
    assert code == 2 and "matches 2 races" in err and "give more of the id" in err
    assert len(err.strip().splitlines()) == 1
    code, _, err = report(capsys, "1999", "--trace-dir", str(traces))
    assert code == 2 and "'1999'" in err and len(err.strip().splitlines()) == 1
    code, _, err = report(capsys, "--trace-dir", str(tmp_path / "empty"))
    assert code == 2 and "no stored races in" in err and len(err.strip().splitlines()) == 1


def test_a_damaged_trace_still_reports_and_says_so(traces: Path, capsys: pytest.CaptureFixture[str]) -> None:
    lane_file = traces / FIRST / "a-r01.jsonl"
    lane_file.write_text(lane_file.read_text() + '{"schema": 1, "type": "turn_do')  # torn last line
    code, out, err = report(capsys, FIRST, "--trace-dir", str(traces), "--format", "json")
    assert code == 0
    assert f"warning: {FIRST}: a-r01.jsonl: skipped a torn last line" in err
    assert json.loads(out)["rows"][0]["passed"] == 2


def test_left_out_runs_are_named_under_the_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store(
        tmp_path,
        race(
            [
                Run("a-r01", [1.0]),
                Run("a-r02", [0.5], outcome="ERROR"),
                Run("a-r03", [0.5], outcome="ERROR"),
                Run("a-r04", [0.5], outcome="ABORTED"),
            ],
            FIRST,
        ),
    )
    code, out, _ = report(capsys, "--trace-dir", str(tmp_path), "--format", "md")
    assert code == 0
    assert "| Lane A (sim) | H/D | 1/1 | 1 | 1 | 1.2 s | 1.2 s | n/a | 2 |" in out
    assert "- Lane A (sim): 2 ERROR runs not counted (provider said 500)" in out
    assert "- Lane A (sim): 1 run aborted, not counted" in out


def test_lanes_takes_one_name_so_ids_after_it_are_ids(traces: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `--lanes NAME ID`: the id is a race to read, not a second lane name.
    code, out, _ = report(capsys, "--trace-dir", str(traces), "--format", "json", "--lanes", "lane a", FIRST)
    assert code == 0
    data = json.loads(out)
    assert data["ids"] == [FIRST]
    assert {r["run_id"] for r in data["runs"]} == {"a-r01", "a-r02"}


def test_lanes_repeat_or_commas(traces: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for args in (["--lanes", "lane a", "--lanes", "weak | local"], ["--lanes", "lane a, weak | local"]):
        code, out, _ = report(capsys, FIRST, "--trace-dir", str(traces), "--format", "json", *args)
        assert code == 0, args
        assert [r["lane"] for r in json.loads(out)["rows"]] == ["Lane A", "Weak | local"]
    with pytest.raises(SystemExit) as exited:
        main(["report", FIRST, "--trace-dir", str(traces), "--lanes", "lane a,"])
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert "expected lane names separated by commas" in err and len(err.strip().splitlines()) == 1


def test_one_unknown_name_among_good_ones_fails(traces: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = report(capsys, FIRST, "--trace-dir", str(traces), "--lanes", "lane a,nope")
    assert code == 2 and out == ""
    assert err.strip() == (
        "loopterm: error: no lane matches nope; lanes in these races: Lane A (sim), Weak | local (sim)"
    )


def test_a_bench_still_running_reports_its_unfinished_runs_as_running(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not "aborted", and no word of replaying: a report reads the trace as written so far (issue 15 item 10)."""
    from loopterm.events import LaneDone, RaceDone

    events = race(
        [Run("a-r01", [1.0]), Run("a-r02", [0.5, 0.7, 1.0]), Run("b-r01", [0.5, 1.0], name="B", model="b")], FIRST
    )
    # At 1.3 s a-r01 has passed (1.25 s); a-r02 and b-r01 are in their turn 2.
    going = [e for e in events if e.t <= 1.3 and not isinstance(e, RaceDone)]
    assert {e.lane for e in going if isinstance(e, LaneDone)} == {"a-r01"}
    writer = TraceWriter(tmp_path)  # held open: the bench is still being written
    for event in going:
        writer(event)
    try:
        code, out, err = report(capsys, "--trace-dir", str(tmp_path))
        assert code == 0
        assert f"benchmark {FIRST} (running) · " in out
        assert "2 runs still running, not counted yet" in out
        assert "aborted" not in out and "aborted" not in err and "replay" not in err
        assert "the race is still being written (2 runs still running); this is what is recorded so far" in err
        data = json.loads(report(capsys, "--trace-dir", str(tmp_path), "--format", "json")[1])
        rows = {r["lane"]: r for r in data["rows"]}
        assert (rows["Lane A"]["runs"], rows["Lane A"]["running"], rows["Lane A"]["aborted"]) == (1, 1, 0)
        assert (rows["B"]["runs"], rows["B"]["running"]) == (0, 1)
        assert [r["outcome"] for r in data["runs"]] == ["PASS", None, None]
    finally:
        writer.close()
    # Once it ends, the same runs count (or are aborted, if it was stopped): nothing is running.
    code, out, _ = report(capsys, "--trace-dir", str(tmp_path))
    assert "(running)" not in out and "still running" not in out
