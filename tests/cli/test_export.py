"""`loopterm export --format cast`: an asciinema v2 cast of the plain replay, with the recorded timing."""

from __future__ import annotations

import io
import json
import re
from datetime import datetime
from pathlib import Path

import pytest
from rich.cells import cell_len
from rich.console import Console
from support.in_process import LoopTerm, Ran
from support.trace_helpers import hand_race, lane_turns, started, write_trace

from loopterm.cli import main
from loopterm.events import Event, LaneDone, Outcome, RaceDone, RaceStarted, TurnDone
from loopterm.plain.cast import render_cast
from loopterm.plain.race import PlainPrinter
from loopterm.traces.reader import read_race

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def parse_cast(path: Path) -> tuple[dict, list[list]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return json.loads(lines[0]), [json.loads(line) for line in lines[1:]]


def plain_text(events: list[Event], width: int) -> str:
    buffer = io.StringIO()
    printer = PlainPrinter(Console(file=buffer, width=width, highlight=False, emoji=False))
    for event in events:
        printer(event)
    return buffer.getvalue()


def printing_times(events: list[Event]) -> list[float]:
    """The times of the events the plain printer prints something for."""
    t0 = events[0].t
    times = [e.t - t0 for e in events if isinstance(e, RaceStarted | TurnDone | LaneDone | RaceDone)]
    return sorted(set(times))


def test_cast_file_parses_with_monotonic_times_that_match_the_events(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = hand_race()
    folder = write_trace(tmp_path, events)
    assert main(["export", folder.name[:8], "--format", "cast", "--trace-dir", str(tmp_path)]) == 0
    cast_path = folder / "race.cast"
    assert capsys.readouterr().out.strip() == f"wrote {cast_path}"
    header, frames = parse_cast(cast_path)
    assert header["version"] == 2 and header["width"] == 100 and 10 <= header["height"] <= 60
    assert header["timestamp"] == int(datetime.fromisoformat("2025-11-22T10:15:00+00:00").timestamp())
    assert header["title"] == "loopterm race 20261122-101500-abcd · mini"
    assert all(kind == "o" and isinstance(text, str) for _, kind, text in frames)
    times = [t for t, _, _ in frames]
    assert times == sorted(times) and times[0] == 0.0
    assert times == pytest.approx(printing_times(events), abs=1e-6)
    assert header["duration"] == pytest.approx(times[-1])
    # the text is exactly the plain replay, with terminal line endings
    text = "".join(data for _, _, data in frames)
    assert "\n" not in text.replace("\r\n", "")
    assert ANSI.sub("", text).replace("\r\n", "\n") == plain_text(events, 100)
    assert "turn  2/4 PASS" in text and "Results" in text


def test_output_file_width_and_speed(tmp_path: Path) -> None:
    events = hand_race()
    folder = write_trace(tmp_path / "traces", events)
    out = tmp_path / "deck" / "race.cast"
    out.parent.mkdir()
    assert main(["export", str(folder), "-o", str(out), "--width", "80", "--speed", "4"]) == 0
    header, frames = parse_cast(out)
    assert header["width"] == 80
    assert [t for t, _, _ in frames] == pytest.approx([t / 4 for t in printing_times(events)], abs=1e-6)
    assert not (folder / "race.cast").exists()
    assert main(["export", str(folder), "-o", str(out.parent)]) == 0  # a folder: <id>.cast inside it
    assert (out.parent / f"{folder.name}.cast").is_file()


def test_an_aborted_race_exports_up_to_where_it_stopped(tmp_path: Path) -> None:
    events = hand_race()
    cut = next(i for i, e in enumerate(events) if isinstance(e, LaneDone))
    folder = write_trace(tmp_path, events[: cut + 4])
    cast = render_cast(read_race(folder), colour=False)
    assert cast.header["title"].endswith("(aborted)")
    text = "".join(data for _, data in cast.frames)
    assert "Results (race aborted)" in text and "\x1b[" not in text
    assert cast.frames[-1][0] == pytest.approx(events[cut + 3].t - events[0].t)


def test_bad_input(tmp_path: Path, loopterm_main: LoopTerm) -> None:
    folder = write_trace(tmp_path, hand_race())
    header = json.loads((folder / "race.json").read_text())
    header["race_started"]["schema"] = 3
    (folder / "race.json").write_text(json.dumps(header))

    def run(*args: str) -> Ran:
        return loopterm_main("export", *args)

    out = run(folder.name, "--trace-dir", str(tmp_path))
    assert out.returncode == 2 and "written by a newer loopterm (event schema 3;" in out.stderr
    out = run(folder.name, "--format", "gif", "--trace-dir", str(tmp_path))
    assert out.returncode == 2 and "invalid choice: 'gif'" in out.stderr
    out = run(folder.name, "--width", "20", "--trace-dir", str(tmp_path))
    assert out.returncode == 2 and "at least 40 columns" in out.stderr
    assert len(out.stderr.splitlines()) == 1


def test_every_cast_line_fits_the_cast_width(tmp_path: Path) -> None:
    # A long (simulated) lane name makes its turn lines longer than 80 columns.
    long_id = "a-lane-with-a-name-long-enough-to-overflow"
    head = started(lanes=(long_id, "slow"), max_turns=4)
    body = sorted(
        [
            *lane_turns(long_id, 0.01, [["hello"], ["hello", "echo", "missing"]]),
            *lane_turns("slow", 0.02, [["hello"], ["hello", "echo"]], turn_s=1.3),
        ],
        key=lambda e: e.t,
    )
    events = [head, *body, RaceDone(t=body[-1].t + 0.01)]
    assert max(map(cell_len, plain_text(events, 200).splitlines())) > 80  # the test would prove nothing
    out = tmp_path / "narrow.cast"
    assert main(["export", str(write_trace(tmp_path / "traces", events)), "-o", str(out), "--width", "80"]) == 0
    header, frames = parse_cast(out)
    lines = ANSI.sub("", "".join(data for _, _, data in frames)).split("\r\n")
    assert header["width"] == 80
    assert max(cell_len(line) for line in lines) <= 80
    assert any("(sim) turn  2/4 PASS" in line for line in lines)
    assert header["height"] == min(max(len(lines), 10), 60)  # the lines counted are the lines shown


def test_export_never_writes_over_a_trace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "traces"
    folder = write_trace(root, hand_race())
    other = write_trace(root, hand_race("20261123-000000-ffff"))
    header = (folder / "race.json").read_bytes()
    for target in (folder / "race.json", folder / "fast.jsonl", folder / "mine.cast", other / "race.cast"):
        assert main(["export", folder.name, "-o", str(target), "--trace-dir", str(root)]) == 2
        err = capsys.readouterr().err
        assert "is inside the race folder" in err and err.count("\n") == 1
    assert (folder / "race.json").read_bytes() == header
    assert read_race(folder).status == "complete"  # still replayable
    assert not (folder / "mine.cast").exists() and not (other / "race.cast").exists()
    notes = tmp_path / "notes.txt"
    notes.write_text("keep me")
    assert main(["export", folder.name, "-o", str(notes), "--trace-dir", str(root)]) == 2
    assert "exists and is not a .cast file" in capsys.readouterr().err and notes.read_text() == "keep me"
    # its own race.cast, named or as the folder, is still fine
    assert main(["export", folder.name, "-o", str(folder / "race.cast"), "--trace-dir", str(root)]) == 0
    assert main(["export", folder.name, "-o", str(folder), "--trace-dir", str(root)]) == 0
    assert sorted(p.name for p in folder.iterdir()) == ["fast.jsonl", "race.cast", "race.json", "slow.jsonl"]


def test_a_wide_cast_writes_below_its_tables_at_its_own_width(tmp_path: Path) -> None:
    # A table is as wide as its columns; the words under it (an ERROR's reason) wrapped at
    # that width, so a cast 140 columns wide showed them in an 80-column block.
    reason = "Slow: " + " ".join(["the server answered 503 Service Unavailable"] * 5)
    head = started(lanes=("fast", "slow"), max_turns=4)
    fast = lane_turns("fast", 0.01, [["hello"], ["hello", "echo", "missing"]])
    slow = lane_turns("slow", 0.02, [["hello"]], outcome=Outcome.ERROR)
    slow[-1] = slow[-1].model_copy(update={"reason": reason})
    body = sorted([*fast, *slow], key=lambda e: e.t)
    folder = write_trace(tmp_path / "traces", [head, *body, RaceDone(t=body[-1].t + 0.01)])
    out = tmp_path / "wide.cast"
    assert main(["export", str(folder), "-o", str(out), "--width", "140"]) == 0
    _, frames = parse_cast(out)
    lines = ANSI.sub("", "".join(data for _, _, data in frames)).split("\r\n")
    rule = next(line for line in lines if "────" in line)
    below = lines[lines.index(rule) :]
    caption = [line.rstrip() for line in below if "Service Unavailable" in line]
    assert len(rule.strip()) < 80 < max(map(len, caption)) <= 140, caption  # the table is narrow, its words are not
    assert " ".join(" ".join(caption).split()).endswith(reason.removeprefix("Slow: "))
