"""What the verdict-outside-the-candidate boundary costs, per validation and per request.

    .venv/bin/python benchmarks/boundary.py [--runs 30]

Three figures, each the median of ``--runs``:
- the quote-approval suite on the reference loaded in this process (no
  sandbox, no boundary: what the checks and the app cost by themselves);
- the same through the sandbox (check runner, warm process, candidate process,
  every request as a frame over a socket);
- the three-check ``mini`` task through the sandbox (the fixed cost of one
  validation: fork, lock-down, load, report).
From them: the boundary's cost per validation (sandbox minus in-process) and,
with the fixed cost taken out, per request (the suite's request count is
counted, not assumed).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from pathlib import Path

from loopterm.sandbox import Sandbox, direct
from loopterm.sandbox.runner import run_suite
from loopterm.tasks import find_task

MINI = Path(__file__).resolve().parent.parent / "tests" / "candidates" / "task"


def count_requests(task) -> int:  # type: ignore[no-untyped-def]
    counted = 0
    original = direct.asgi_exchange

    def counting(app):  # type: ignore[no-untyped-def]
        inner = original(app)

        async def exchange(scope, body):  # type: ignore[no-untyped-def]
            nonlocal counted
            counted += 1
            return await inner(scope, body)

        return exchange

    direct.asgi_exchange = counting
    import loopterm.sandbox.runner as runner

    runner.asgi_exchange = counting
    try:
        asyncio.run(run_suite(task.suite, task.reference_source))
    finally:
        direct.asgi_exchange = original
        runner.asgi_exchange = original
    return counted


async def in_process(task, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        await run_suite(task.suite, task.reference_source)
        times.append((time.perf_counter() - start) * 1000)
    return times


async def sandboxed(task, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    async with Sandbox(task) as box:
        await box.validate(task.reference_source)  # warm
        for _ in range(runs):
            start = time.perf_counter()
            result = await box.validate(task.reference_source)
            times.append((time.perf_counter() - start) * 1000)
            assert result.status == "PASS", result.error
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    task = find_task("quote-approval")
    mini = find_task("mini", MINI)
    requests = count_requests(task)
    local = statistics.median(asyncio.run(in_process(task, args.runs)))
    boxed = statistics.median(asyncio.run(sandboxed(task, args.runs)))
    fixed = statistics.median(asyncio.run(sandboxed(mini, args.runs)))
    mini_local = statistics.median(asyncio.run(in_process(mini, args.runs)))
    per_validation = boxed - local
    per_request = (per_validation - (fixed - mini_local)) / requests
    print(f"quote-approval reference, {requests} requests, median of {args.runs}:")
    print(f"  in-process (no sandbox)     {local:7.1f} ms")
    print(f"  through the sandbox         {boxed:7.1f} ms")
    print(f"  mini task, sandbox          {fixed:7.1f} ms  (in-process {mini_local:.1f} ms)")
    print(f"boundary per validation       {per_validation:7.1f} ms")
    print(f"  of which fixed (spawn, lock-down, load, report) {fixed - mini_local:.1f} ms")
    print(f"  per request                 {per_request * 1000:7.0f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
