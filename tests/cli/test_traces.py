"""Stored races: listing, id/prefix/path resolution, rm and prune (and their refusals)."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.in_process import LoopTerm
from support.trace_helpers import hand_race, started, write_trace

from loopterm.cli import main
from loopterm.events import LaneDone, Outcome, RaceDone
from loopterm.traces import store
from loopterm.traces.store import StoreError


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
        "20261122-120000-dead",
        "20261121-093000-bbcc",
        "20261121-090000-bbbb",
        "20261120-090000-aaaa",
    ]
    dead, newest = races[0], races[1]
    assert dead.status == "incomplete" and dead.outcomes == {"PASS": 1, "unfinished": 1}
    assert newest.status == "complete" and newest.outcomes == {"PASS": 1, "TURN_LIMIT": 1}
    assert newest.outcomes_text() == "PASS 1 · turn limit 1"
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
    assert outside.is_dir() and stray.is_dir()


def test_cli_list_table_and_json(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["traces", "--trace-dir", str(root)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert any("ID" in line and "Outcomes" in line and "Size" in line for line in lines)
    rows = [line for line in lines if line.strip().startswith("2026")]
    assert [r.split()[0] for r in rows] == ["20261121-093000-bbcc", "20261121-090000-bbbb", "20261120-090000-aaaa"]
    assert "PASS 1 · turn limit 1" in rows[0] and "complete" in rows[0] and "kB" in rows[0]
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


def test_cli_rm_refuses_without_yes_off_a_terminal(root: Path, loopterm_main: LoopTerm) -> None:
    out = loopterm_main("traces", "rm", "20261120", "--trace-dir", str(root))  # stdin: /dev/null
    assert out.returncode == 2
    assert out.stderr.strip() == (
        "loopterm: error: not deleting without confirmation: stdin is not a terminal; add --yes to delete"
    )
    assert (root / "20261120-090000-aaaa").is_dir()


@pytest.mark.parametrize(("answer", "deleted"), [(b"y\n", True), (b"\n", False)])
def test_cli_rm_asks_on_a_terminal(root: Path, answer: bytes, deleted: bool) -> None:
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "loopterm", "traces", "rm", "20261120", "--trace-dir", str(root)],
            stdin=slave,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        os.write(master, answer)
        out, err = proc.communicate(timeout=60)
    finally:
        os.close(master)
        os.close(slave)
    assert b"delete race 20261120-090000-aaaa (mini, 2 lanes" in out
    assert (root / "20261120-090000-aaaa").exists() is not deleted
    assert proc.returncode == (0 if deleted else 1), err


def test_cli_rm_refuses_paths_outside_and_unknown_ids(
    root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outside = stored(tmp_path / "elsewhere", "20261122-150000-beef")
    assert main(["traces", "rm", str(outside), "--yes", "--trace-dir", str(root)]) == 2
    assert "not in the traces dir" in capsys.readouterr().err
    assert outside.is_dir()
    assert main(["traces", "rm", "nope", "--yes", "--trace-dir", str(root)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "run `loopterm traces`" in err


def test_cli_rm_deletes_a_killed_race_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A kill -9 leaves race.lock behind, unlocked, and no end record; files changed just now.
    events = hand_race("20261122-170000-dead")
    folder = write_trace(tmp_path, [e for e in events if not isinstance(e, RaceDone)][:12])
    (folder / "race.lock").write_text("999999")
    assert store.read_info(folder).status == "incomplete" and not store.read_info(folder).live()
    assert main(["traces", "rm", "20261122-170000", "--yes", "--trace-dir", str(tmp_path)]) == 0
    assert not folder.exists()


def test_cli_rm_leaves_a_race_whose_writer_holds_its_lock(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from loopterm.traces.writer import TraceWriter

    writer = TraceWriter(tmp_path)  # held open, as a running race holds it (test_trace_lock: a real child)
    for event in hand_race("20261122-170000-live")[:5]:
        writer(event)
    try:
        assert main(["traces", "rm", "20261122-170000", "--yes", "--trace-dir", str(tmp_path)]) == 2
        assert f"still being written by process {os.getpid()}" in capsys.readouterr().err
        assert writer.folder is not None and writer.folder.is_dir()
        with pytest.raises(StoreError, match="still being written"):
            store.remove(writer.folder, tmp_path)  # the lock is checked again at the delete itself
    finally:
        writer.close()
    assert not (writer.folder / "race.lock").exists()  # a finished writer leaves no lock file
    assert main(["traces", "rm", "20261122-170000", "--yes", "--trace-dir", str(tmp_path)]) == 0


def test_cli_prune_deletes_only_old_races(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["traces", "prune", "--older-than", "3", "--trace-dir", str(root), "--yes"]) == 0
    out = capsys.readouterr().out
    assert "deleted 2 races" in out
    assert [r.race_id for r in store.list_races(root)] == ["20261121-093000-bbcc"]
    assert main(["traces", "prune", "--older-than", "3", "--trace-dir", str(root), "--yes"]) == 0
    assert "no races older than 3 days" in capsys.readouterr().out


def test_cli_prune_keeps_live_races_and_refuses_without_yes(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from loopterm.traces.writer import TraceWriter

    writer = TraceWriter(root)  # started long ago by its header, and still being written
    for event in hand_race("20261122-180000-live", started_at="2020-01-01T00:00:00Z")[:10]:
        writer(event)
    try:
        old = store.older_than(root, 3)
        assert "20261122-180000-live" not in [r.race_id for r in old]
        assert main(["traces", "prune", "--older-than", "3", "--trace-dir", str(root)]) == 2  # stdin not a TTY
        assert "add --yes" in capsys.readouterr().err
        assert len(store.list_races(root)) == 4
    finally:
        writer.close()
    # once its writer is gone it is an old race like any other, whatever its files' times
    assert "20261122-180000-live" in [r.race_id for r in store.older_than(root, 3)]


def test_cli_bad_input(root: Path, loopterm_main: LoopTerm) -> None:
    out = loopterm_main("traces", "prune", "--older-than", "soon", "--trace-dir", str(root))
    assert out.returncode == 2 and "--older-than: expected a number" in out.stderr
    out = loopterm_main("traces", "prune", "--trace-dir", str(root))
    assert out.returncode == 2 and "--older-than" in out.stderr


def test_sizes_read_well() -> None:
    assert store.human_size(512) == "512 B"
    assert store.human_size(472_100) == "472.1 kB"
    assert store.human_size(3_200_000_000) == "3.2 GB"


def test_outcomes_follow_the_outcome_order(tmp_path: Path) -> None:
    events = [started(lanes=("a", "b", "c"))]
    for lane, outcome in (("a", Outcome.THRASH), ("b", Outcome.PASS), ("c", Outcome.THRASH)):
        events.append(
            LaneDone(
                t=1.0,
                lane=lane,
                outcome=outcome,
                reason="r",
                turns=1,
                time_to_pass_s=None,
                best_score=0.0,
                final_score=0.0,
            )
        )
    events.append(RaceDone(t=2.0))
    info = store.read_info(write_trace(tmp_path, events))
    assert info.outcomes_text() == "PASS 1 · THRASH 2"


def test_a_race_copied_under_another_name_answers_to_both_names(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    shutil.copytree(root / "20261120-090000-aaaa", root / "keep-this-one")
    shutil.rmtree(root / "20261120-090000-aaaa")
    assert main(["traces", "--trace-dir", str(root)]) == 0
    assert "keep-this-one" in capsys.readouterr().out  # the listing shows what rm and replay take
    assert store.resolve("keep", root) == root / "keep-this-one"
    assert store.resolve("20261120-090000-aaaa", root) == root / "keep-this-one"  # the recorded id too
    assert store.resolve("20261120", root) == root / "keep-this-one"
    assert main(["traces", "rm", "20261120", "--yes", "--trace-dir", str(root)]) == 0
    assert not (root / "keep-this-one").exists()


def test_rm_of_a_lane_file_refuses_instead_of_deleting_the_race(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = root / "20261120-090000-aaaa"
    assert main(["traces", "rm", str(folder / "fast.jsonl"), "--yes", "--trace-dir", str(root)]) == 2
    err = capsys.readouterr().err
    assert "is one file of race 20261120-090000-aaaa; `traces rm` deletes whole races" in err
    assert err.count("\n") == 1
    assert sorted(p.name for p in folder.iterdir()) == ["fast.jsonl", "race.json", "slow.jsonl"]


def test_the_listing_fits_80_columns(root: Path) -> None:
    import io

    from rich.console import Console

    from loopterm.commands.traces import listing_table

    buffer = io.StringIO()
    Console(file=buffer, width=80).print(listing_table(store.list_races(root), 80))
    lines = buffer.getvalue().splitlines()
    rows = [line for line in lines if line.strip().startswith("2026")]
    assert len(rows) == 3 and len(lines) == 2 + 3  # the header and its rule, then one line a race: no cell wraps
    assert "20261121-093000-bbcc" in rows[0] and "PASS 1 TL 1" in rows[0] and "complete" in rows[0]
    assert "…" not in rows[0].split()[0]  # the id is never cut: it is what rm and replay take
    buffer = io.StringIO()
    Console(file=buffer, width=140).print(listing_table(store.list_races(root), 140))
    assert "PASS 1 · turn limit 1" in buffer.getvalue() and "Kind" in buffer.getvalue()


def test_a_very_narrow_listing_drops_the_task_rather_than_cut_dates(root: Path) -> None:
    import io

    from rich.console import Console

    from loopterm.commands.traces import listing_table

    buffer = io.StringIO()
    Console(file=buffer, width=60).print(listing_table(store.list_races(root), 60))
    lines = buffer.getvalue().splitlines()
    rows = [line for line in lines if line.strip().startswith("2026")]
    assert len(rows) == 3 and "Task" not in buffer.getvalue()
    assert "20261121-093000-bbcc" in rows[0] and rows[0].rstrip().endswith("complete")
    assert all(len(line) <= 60 for line in lines)
