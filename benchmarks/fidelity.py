"""Does watching a race change it? The same seeded race in --plain and in the viewer, side by side.

    .venv/bin/python benchmarks/fidelity.py [--lanes sim:fast-diffusion,...] [--seed 1] [--size 120x40]
                                            [--repeat 1] [--fps N]
    .venv/bin/python benchmarks/fidelity.py --skew [--size 200x50] [--repeat 1]

For each repeat it runs the race once with ``--plain`` and once in the full
viewer under a pseudo-terminal of the given size (a real terminal's bytes are
read and counted, never drawn), then prints per lane the time to pass in both
and their ratio, the viewer process's CPU share of one core while racing (the
engine is a separate process and not counted), and the terminal output rate.
Simulated lanes pace their tokens against deadlines of the race clock, so
with the same seed both runs do the same work; what differs is only whether
a viewer is watching. Lanes are keyed by run id, so a profile raced twice
counts twice.

``--skew``: real streaming lanes against a fake OpenAI-compatible server on
127.0.0.1 (``skewserver.py``) that sends each chunk at a known time and
records it, raced beside four simulated lanes with the viewer drawing at the
given size, and once in ``--plain``. Each ``GenerationProgress`` event the
engine records (one per chunk, at most every 100 ms) carries the characters
received so far, which names the chunk that brought them; its recorded race
time minus that chunk's send time, less the smallest such difference (the
two clocks' fixed offset plus the fastest delivery), is that chunk's skew:
how late its arrival was stamped. Goal: p99 under 20 ms with the viewer busy.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import pty
import select
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

DEFAULT_LANES = "sim:fast-diffusion,sim:frontier,sim:mini,sim:weak-local"
LOOPTERM = [sys.executable, "-m", "loopterm"]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def times_to_pass(trace_folder: Path) -> dict[str, float | None]:
    from loopterm.stats.runs import summarize
    from loopterm.traces.reader import read_race

    return {run.info.run_id: run.time_to_pass_s for run in summarize(read_race(trace_folder).events)}


def plain(lanes: list[str], seed: int, root: Path, extra: tuple[str, ...] = ()) -> dict[str, float | None]:
    out = subprocess.run(
        [*LOOPTERM, "race", *lanes, "--seed", str(seed), "--plain", "--json", "--trace-dir", str(root), *extra],
        capture_output=True,
        text=True,
        check=True,
    )
    summary = json.loads(out.stdout)
    return {lane["run_id"]: lane["time_to_pass_s"] for lane in summary["lanes"]}


def viewer(
    lanes: list[str], seed: int, root: Path, size: tuple[int, int], fps: int | None, extra: tuple[str, ...] = ()
) -> dict[str, object]:
    cols, rows = size
    pid, fd = pty.fork()
    if pid == 0:  # the viewer, on the pty
        os.environ.update(TERM="xterm-256color", COLUMNS=str(cols), LINES=str(rows))
        more = ["--fps", str(fps)] if fps else []
        os.execv(
            sys.executable, [*LOOPTERM, "race", *lanes, "--seed", str(seed), "--trace-dir", str(root), *more, *extra]
        )
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    written = 0
    started = time.monotonic()
    cpu_at_start = cpu_seconds(pid)
    racing_until: float | None = None
    cpu_at_end = 0.0
    quit_sent = False
    while True:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(fd, 1 << 16)
            except OSError:
                break
            if not chunk:
                break
            written += len(chunk)
        if racing_until is None and _race_done(root):
            racing_until = time.monotonic()
            cpu_at_end = cpu_seconds(pid)
            written_while_racing = written
        if racing_until is not None and not quit_sent and time.monotonic() - racing_until > 0.5:
            os.write(fd, b"q")
            quit_sent = True
    os.waitpid(pid, 0)
    assert racing_until is not None, "the race never finished"
    wall = racing_until - started
    folder = newest_trace(root)
    return {
        "times": times_to_pass(folder),
        "cpu_share": (cpu_at_end - cpu_at_start) / wall,
        "kib_per_s": written_while_racing / 1024 / wall,
        "wall_s": wall,
    }


def newest_trace(root: Path) -> Path:
    return max((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)


def _race_done(root: Path) -> bool:
    for race in root.glob("*/race.json"):
        try:
            if json.loads(race.read_text()).get("status") in ("complete", "aborted"):
                return True
        except (OSError, ValueError):
            pass
    return False


def _show(seconds: float | None) -> str:
    return "   no pass" if seconds is None else f"{seconds:8.2f}s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lanes", default=DEFAULT_LANES)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--size", default="120x40")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--fps", type=int)
    parser.add_argument("--skew", action="store_true", help="measure chunk skew against a fake streaming server")
    args = parser.parse_args()
    if args.skew:
        from skewserver import measure_skew

        return measure_skew(args.size, args.repeat, args.fps, plain, viewer, newest_trace)
    lanes = args.lanes.split(",")
    cols, rows = (int(x) for x in args.size.split("x"))
    ratios: dict[str, list[float]] = {}
    shares: list[float] = []
    rates: list[float] = []
    for n in range(args.repeat):
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            base = plain(lanes, args.seed, Path(a))
            seen = viewer(lanes, args.seed, Path(b), (cols, rows), args.fps)
        times = seen["times"]
        assert isinstance(times, dict)
        print(
            f"run {n + 1}: viewer CPU {seen['cpu_share']:.0%} of a core, "
            f"{seen['kib_per_s']:.1f} KiB/s to the terminal, race {seen['wall_s']:.1f} s"
        )
        print(f"  {'lane':<24} {'plain':>9} {'viewer':>9} {'ratio':>7}")
        for name, t_plain in base.items():
            t_view = times.get(name)
            ratio = t_view / t_plain if t_plain and t_view else None
            if ratio is not None:
                ratios.setdefault(name, []).append(ratio)
            print(f"  {name:<24} {_show(t_plain)} {_show(t_view)} {'' if ratio is None else f'{ratio:6.3f}'}")
        shares.append(float(seen["cpu_share"]))  # type: ignore[arg-type]
        rates.append(float(seen["kib_per_s"]))  # type: ignore[arg-type]
    print(f"\nlanes {args.lanes} seed {args.seed} at {args.size}, {args.repeat} run(s)")
    for name, values in ratios.items():
        print(f"  {name:<24} viewer/plain time to pass: median {statistics.median(values):.3f}")
    print(f"  viewer CPU share: median {statistics.median(shares):.0%} of one core")
    print(f"  terminal output: median {statistics.median(rates):.1f} KiB/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
