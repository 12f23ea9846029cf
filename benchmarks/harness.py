"""Benchmark the harness itself: its own time per turn, and lane isolation.

Run: ``.venv/bin/python benchmarks/harness.py``

1. Harness time: sim lanes with zero latency (``time_scale=0``), so a turn is
   only generation bookkeeping + extraction + real validation + events +
   trace writes; reports the median of each turn's ``harness_s`` (turn time
   minus model time minus validation time).
2. Isolation: 8 lanes at the fast-diffusion profile's real pace
   (``time_scale=1``) race at once; while lanes validate in the sandbox, the
   others keep streaming. Reports, per lane, the largest gap between
   consecutive progress events (the engine emits one every 0.1 s while text
   arrives; a stalled event loop would show as a long gap).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
from pathlib import Path

from loopterm.events import GenerationProgress, TurnDone
from loopterm.lanes import resolve
from loopterm.loop.race import RaceConfig, run_race
from loopterm.traces.writer import TraceWriter


async def race(lanes: list[str], time_scale: float, root: Path) -> list:
    events: list = []
    writer = TraceWriter(root)
    config = RaceConfig(time_scale=time_scale, seed=7, max_turns=6)
    await run_race([resolve(name) for name in lanes], config, [writer, events.append])
    return events


def harness_time(root: Path) -> None:
    events = asyncio.run(race(["sim:fast-diffusion", "sim:mini", "sim:weak-local", "sim:frontier"] * 2, 0.0, root))
    turns = [e for e in events if isinstance(e, TurnDone)]
    harness = sorted(e.harness_s * 1000 for e in turns)
    validation = [e.validation_s * 1000 for e in turns if e.validation_s]
    print(
        f"harness time per turn: median {statistics.median(harness):.2f} ms, "
        f"p90 {harness[int(0.9 * (len(harness) - 1))]:.2f} ms, max {harness[-1]:.2f} ms "
        f"over {len(turns)} turns (8 lanes, time scale 0)"
    )
    print(f"validation per turn (same race): median {statistics.median(validation):.1f} ms")


def isolation(root: Path) -> None:
    events = asyncio.run(race(["sim:fast-diffusion"] * 8, 1.0, root))
    gaps: dict[str, float] = {}
    last: dict[tuple[str, int], float] = {}
    for e in events:
        if isinstance(e, GenerationProgress):
            key = (e.lane, e.turn)
            if key in last and not e.first_token:
                gaps[e.lane] = max(gaps.get(e.lane, 0.0), e.t - last[key])
            last[key] = e.t
    worst = max(gaps.values())
    print(
        f"8 lanes streaming at once: largest gap between progress events {worst * 1000:.0f} ms "
        f"(target interval 100 ms; median lane worst gap {statistics.median(gaps.values()) * 1000:.0f} ms)"
    )


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        harness_time(Path(tmp) / "a")
        isolation(Path(tmp) / "b")
    return 0


if __name__ == "__main__":
    sys.exit(main())
