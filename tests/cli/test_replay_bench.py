"""A bench trace replays (plain) and exports as `bench --plain` printed it: a line per run, the bench table."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from support.in_process import LoopTerm, Ran

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def loopterm(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "160"}
    return subprocess.run(
        [sys.executable, "-m", "loopterm", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture
def replay(loopterm_main: LoopTerm) -> Callable[..., Ran]:
    """Replay and export run in this process (``loopterm_main``); the bench itself in a child, once a module."""

    def run(*args: str, cwd: Path) -> Ran:
        return loopterm_main(*args, cwd=cwd, env={"COLUMNS": "160"})

    return run


def table_of(out: str) -> str:
    """From the blank line before the bench table to its end (the live run adds trace: lines after)."""
    body = out[out.index("\n\n") + 2 :]
    return "\n".join(line for line in body.splitlines() if not line.startswith(("trace:", "again from")))


@pytest.fixture(scope="module")
def bench(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, str]:
    tmp = tmp_path_factory.mktemp("bench")
    traces = tmp / "traces"
    live = loopterm(
        "bench",
        "sim:fast-diffusion",
        "sim:frontier",
        "--runs",
        "2",
        "--time-scale",
        "0",
        "--seed",
        "1",
        "--max-turns",
        "4",
        "--trace-dir",
        str(traces),
        "--plain",
        cwd=tmp,
    )
    assert live.returncode == 0, live.stderr
    (folder,) = traces.iterdir()
    return tmp, folder, live.stdout


def test_plain_replay_of_a_bench_prints_the_bench_progress_and_table(
    bench: tuple[Path, Path, str], replay: Callable[..., Ran]
) -> None:
    tmp, folder, live = bench
    out = replay("replay", str(folder), "--plain", "--speed", "50", cwd=tmp)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"bench {folder.name} · task ")
    assert "REPLAY ×50" in out.stdout.splitlines()[1]
    # no race ranking: no "1st"/"2nd" places, no race results table; the bench table instead
    assert "One-shot" in out.stdout and "Convergence and cost" in out.stdout
    assert not re.search(r"\b(1st|2nd|3rd)\b", out.stdout)
    runs = [line for line in out.stdout.splitlines() if re.search(r"run +\d/2", line)]
    assert len(runs) == 4 and runs == [line for line in live.splitlines() if re.search(r"run +\d/2", line)]
    assert table_of(out.stdout) == table_of(live)  # the very table bench printed


def test_exporting_a_bench_casts_the_bench_output(bench: tuple[Path, Path, str], replay: Callable[..., Ran]) -> None:
    tmp, folder, _ = bench
    cast = tmp / "bench.cast"
    out = replay("export", str(folder), "-o", str(cast), "--width", "160", cwd=tmp)
    assert out.returncode == 0, out.stderr
    frames = [json.loads(line) for line in cast.read_text().splitlines()[1:]]
    text = ANSI.sub("", "".join(data for _, _, data in frames)).replace("\r\n", "\n")
    assert text.startswith(f"bench {folder.name}") and not re.search(r"\b(1st|2nd|3rd)\b", text)
    assert len([line for line in text.splitlines() if re.search(r"run +\d/2", line)]) == 4
    assert "One-shot" in text.split("\n\n", 1)[1]  # the bench table closes the cast


def test_a_bench_cast_wraps_its_lines_at_the_cast_width(
    bench: tuple[Path, Path, str], replay: Callable[..., Ran]
) -> None:
    tmp, folder, live = bench
    assert max(len(line) for line in live.splitlines()) > 60  # some bench lines are wider than the cast
    cast = tmp / "narrow-bench.cast"
    out = replay("export", str(folder), "-o", str(cast), "--width", "60", cwd=tmp)
    assert out.returncode == 0, out.stderr
    frames = [json.loads(line) for line in cast.read_text().splitlines()[1:]]
    lines = ANSI.sub("", "".join(data for _, _, data in frames)).split("\r\n")
    assert max(len(line) for line in lines) <= 60
