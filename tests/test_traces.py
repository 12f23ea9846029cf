"""Stored races: listing, id/prefix/path resolution, rm and prune (and their refusals)."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from trace_helpers import hand_race, started, write_trace

from loopterm.cli import main
from loopterm.events import LaneDone, Outcome, RaceDone
from loopterm.traces import store
from loopterm.traces.store import StoreError


def cli(args: list[str], timeout: float = 60, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "loopterm", *args], capture_output=True, text=True,
                          timeout=timeout, **kw)  # type: ignore[call-overload]


def stored(root: Path, race_id: str, days_ago: float = 0.0, **kw: object) -> Path:
    when = datetime(2026, 11, 22, 10, 0, tzinfo=UTC) if days_ago == 0 else datetime.now(UTC) - timedelta(days=days_ago)
    return write_trace(root, hand_race(race_id, started_at=when.strftime("%Y-%m-%dT%H:%M:%SZ"), **kw))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "traces"
    stored(root, "20261120-090000-aaaa", days_ago=10)
    stored(root, "20261121-090000-bbbb", days_ago=5)
    stored(root, "20261121-093000-bbcc", days_ago=1)
    return root


def test_listing_is_newest_first_with_outcomes_status_and_size(root: Path) -> None:
    # an aborted race: killed mid-way, no lane_done for "slow", no race_done
    # started after the fixture's newest (a day ago), whatever today's date is
    just_now = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    events = hand_race("20261122-120000-dead", started_at=just_now)
    cut = next(i for i, e in enumerate(events) if isinstance(e, LaneDone) and e.lane == "fast")
    write_trace(root, events[: cut + 3])
    (root / "not-a-race").mkdir()  # stray folders are not races
    (root / "notes.txt").write_text("hi")

    races = store.list_races(root)
    assert [r.race_id for r in races] == [
        "20261122-120000-dead", "20261121-093000-bbcc", "20261121-090000-bbbb", "20261120-090000-aaaa",
    ]
    dead, newest = races[0], races[1]
    assert dead.status == "incomplete" and dead.outcomes == {"PASS": 1, "unfinished": 1}
    assert newest.status == "complete" and newest.outcomes == {"PASS": 1, "TURN_LIMIT": 1}
    assert newest.outcomes_text() == "PASS 1 · TURN_LIMIT 1"
    assert newest.lanes == ["Fast", "Slow"] and newest.task_id == "mini" and newest.kind == "race"
    assert newest.size == sum(p.stat().st_size for p in newest.folder.iterdir())


def test_listing_survives_damage_and_names_it(root: Path) -> None:
    bad = root / "20261122-130000-0bad"
    bad.mkdir()
    (bad / "race.json").write_text("{torn")
    newer = stored(root, "20261122-140000-0new")
    header = json.loads((newer / "race.json").read_text())
    header["race_started"]["schema"] = 99
    (newer / "race.json").write_text(json.dumps(header))
    by_id = {r.race_id: r for r in store.list_races(root)}
    assert by_id["20261122-130000-0bad"].status == "damaged"
    assert "unreadable race.json" in (by_id["20261122-130000-0bad"].problem or "")
    assert by_id["20261122-140000-0new"].status == "newer schema"


def test_lane_outcome_is_read_from_the_tail_even_after_a_long_line(tmp_path: Path) -> None:
    events = hand_race()
    big = next(e for e in events if e.type == "generation_done")
    big.text = "x" * 50_000  # a long answer near the end of the file must not hide lane_done
    folder = write_trace(tmp_path, events)
    assert store.read_info(folder).outcomes == {"PASS": 1, "TURN_LIMIT": 1}
    lane = folder / "slow.jsonl"
    lane.write_bytes(lane.read_bytes()[:-10])  # torn lane_done
    assert store.read_info(folder).outcomes == {"PASS": 1, "unfinished": 1}


def test_resolve_exact_prefix_path_and_newest(root: Path, tmp_path: Path) -> None:
    assert store.resolve("20261120-090000-aaaa", root) == root / "20261120-090000-aaaa"
    assert store.resolve("20261120", root) == root / "20261120-090000-aaaa"
    assert store.resolve("20261121-0900", root) == root / "20261121-090000-bbbb"
    assert store.resolve(None, root) == root / "20261121-093000-bbcc"  # newest by start time
    lane = root / "20261121-090000-bbbb" / "fast.jsonl"
    assert store.resolve(str(lane), root) == lane
    # a race copied from another machine, outside the traces dir
    copied = tmp_path / "from-laptop"
    copied.mkdir()
    for f in (root / "20261120-090000-aaaa").iterdir():
        (copied / f.name).write_bytes(f.read_bytes())
    assert store.resolve(str(copied), root) == copied


def test_resolve_refusals_are_one_clear_line(root: Path, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match=r"'20261121' matches 2 races: 20261121-090000-bbbb, 20261121-093000-bbcc;"):
        store.resolve("20261121", root)
    with pytest.raises(StoreError, match=r"no race 'zzz' in .*; run `loopterm traces`"):
        store.resolve("zzz", root)
    with pytest.raises(StoreError, match="no such file or folder"):
        store.resolve(str(tmp_path / "nope" / "a.jsonl"), root)
    with pytest.raises(StoreError, match="not a loopterm race folder"):
        store.resolve(str(tmp_path), root)
    with pytest.raises(StoreError, match="no stored races in"):
        store.resolve(None, tmp_path / "empty")


def test_prefix_lists_at_most_five_candidates(tmp_path: Path) -> None:
    for n in range(7):
        stored(tmp_path, f"20261122-10000{n}-abcd")
    with pytest.raises(StoreError) as info:
        store.resolve("2026", tmp_path)
    assert "matches 7 races" in str(info.value) and "and 2 more" in str(info.value)
    assert "\n" not in str(info.value)


def test_deletable_only_race_folders_in_the_traces_dir(root: Path, tmp_path: Path) -> None:
    outside = stored(tmp_path / "elsewhere", "20261122-150000-beef")
    with pytest.raises(StoreError, match="not in the traces dir"):
        store.deletable(outside, root)
    stray = root / "stray"
    stray.mkdir()
    with pytest.raises(StoreError, match="not a loopterm race folder"):
        store.deletable(stray, root)
    link = root / "20261122-160000-link"
    link.symlink_to(outside, target_is_directory=True)
    with pytest.raises(StoreError, match="symbolic link"):
        store.deletable(link, root)
    lane = root / "20261120-090000-aaaa" / "fast.jsonl"
    assert store.deletable(lane, root) == root / "20261120-090000-aaaa"  # a lane file names its race
    assert outside.is_dir() and stray.is_dir()


def test_cli_list_table_and_json(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["traces", "--trace-dir", str(root)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert any("ID" in line and "Outcomes" in line and "Size" in line for line in lines)
    rows = [line for line in lines if line.strip().startswith("2026")]
    assert [r.split()[0] for r in rows] == ["20261121-093000-bbcc", "20261121-090000-bbbb", "20261120-090000-aaaa"]
    assert "PASS 1 · TURN_LIMIT 1" in rows[0] and "complete" in rows[0] and "kB" in rows[0]
    assert lines[-1] == f"3 races in {root}"
    assert main(["traces", "--json", "--trace-dir", str(root)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["id"] for d in data] == [r.split()[0] for r in rows]
    assert data[0]["outcomes"] == {"PASS": 1, "TURN_LIMIT": 1} and data[0]["lanes"] == ["Fast", "Slow"]
    assert main(["traces", "list", "--trace-dir", str(root / "none")]) == 0
    assert "no stored races" in capsys.readouterr().out


def test_cli_rm_with_yes_deletes_by_prefix(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["traces", "rm", "20261120", "--yes", "--trace-dir", str(root)]) == 0
    assert not (root / "20261120-090000-aaaa").exists()
    assert "deleted" in capsys.readouterr().out
    assert len(store.list_races(root)) == 2


def test_cli_rm_refuses_without_yes_off_a_terminal(root: Path) -> None:
    out = cli(["traces", "rm", "20261120", "--trace-dir", str(root)], stdin=subprocess.DEVNULL)
    assert out.returncode == 2
    assert out.stderr.strip() == (
        "loopterm: error: not deleting without confirmation: stdin is not a terminal; add --yes to delete"
    )
    assert (root / "20261120-090000-aaaa").is_dir()


@pytest.mark.parametrize(("answer", "deleted"), [(b"y\n", True), (b"\n", False)])
def test_cli_rm_asks_on_a_terminal(root: Path, answer: bytes, deleted: bool) -> None:
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen([sys.executable, "-m", "loopterm", "traces", "rm", "20261120", "--trace-dir",
                                 str(root)], stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        os.write(master, answer)
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(master)
        os.close(slave)
    assert b"delete race 20261120-090000-aaaa (mini, 2 lanes" in out
    assert (root / "20261120-090000-aaaa").exists() is not deleted
    assert proc.returncode == (0 if deleted else 1), err


def test_cli_rm_refuses_paths_outside_and_unknown_ids(root: Path, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    outside = stored(tmp_path / "elsewhere", "20261122-150000-beef")
    assert main(["traces", "rm", str(outside), "--yes", "--trace-dir", str(root)]) == 2
    assert "not in the traces dir" in capsys.readouterr().err
    assert outside.is_dir()
    assert main(["traces", "rm", "nope", "--yes", "--trace-dir", str(root)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "run `loopterm traces`" in err


def test_cli_rm_leaves_a_race_that_is_being_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    events = hand_race("20261122-170000-live")
    write_trace(tmp_path, [e for e in events if not isinstance(e, RaceDone)][:12])  # no end record, just written
    assert main(["traces", "rm", "20261122-170000", "--yes", "--trace-dir", str(tmp_path)]) == 2
    assert "still being written" in capsys.readouterr().err
    assert (tmp_path / "20261122-170000-live").is_dir()


def test_cli_prune_deletes_only_old_races(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["traces", "prune", "--older-than", "3", "--trace-dir", str(root), "--yes"]) == 0
    out = capsys.readouterr().out
    assert "deleted 2 races" in out
    assert [r.race_id for r in store.list_races(root)] == ["20261121-093000-bbcc"]
    assert main(["traces", "prune", "--older-than", "3", "--trace-dir", str(root), "--yes"]) == 0
    assert "no races older than 3 days" in capsys.readouterr().out


def test_cli_prune_keeps_live_races_and_refuses_without_yes(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    live = hand_race("20261122-180000-live", started_at="2020-01-01T00:00:00Z")
    write_trace(root, live[:10])  # started long ago by its header, but written to a moment ago
    old = store.older_than(root, 3)
    assert "20261122-180000-live" not in [r.race_id for r in old]
    assert main(["traces", "prune", "--older-than", "3", "--trace-dir", str(root)]) == 2  # stdin is not a TTY
    assert "add --yes" in capsys.readouterr().err
    assert len(store.list_races(root)) == 4
    # once nothing has touched it for a while it is an old, dead race
    past = time.time() - 3600
    for f in (root / "20261122-180000-live").iterdir():
        os.utime(f, (past, past))
    assert "20261122-180000-live" in [r.race_id for r in store.older_than(root, 3)]


def test_cli_bad_input(root: Path) -> None:
    out = cli(["traces", "prune", "--older-than", "soon", "--trace-dir", str(root)])
    assert out.returncode == 2 and "--older-than: expected a number" in out.stderr
    out = cli(["traces", "prune", "--trace-dir", str(root)])
    assert out.returncode == 2 and "--older-than" in out.stderr


def test_sizes_read_well() -> None:
    assert store.human_size(512) == "512 B"
    assert store.human_size(472_100) == "472.1 kB"
    assert store.human_size(3_200_000_000) == "3.2 GB"


def test_outcomes_follow_the_outcome_order(tmp_path: Path) -> None:
    events = [started(lanes=("a", "b", "c"))]
    for lane, outcome in (("a", Outcome.THRASH), ("b", Outcome.PASS), ("c", Outcome.THRASH)):
        events.append(LaneDone(t=1.0, lane=lane, outcome=outcome, reason="r", turns=1, time_to_pass_s=None,
                               best_score=0.0, final_score=0.0))
    events.append(RaceDone(t=2.0))
    info = store.read_info(write_trace(tmp_path, events))
    assert info.outcomes_text() == "PASS 1 · THRASH 2"
