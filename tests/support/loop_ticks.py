"""Measure how long an awaitable kept the event loop waiting, in ticks rather than seconds."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def loop_ticks_during(awaitable: Awaitable[T], interval_s: float = 0.05) -> tuple[T, int]:
    """``awaitable``'s result, and how often an ``interval_s`` ticker on the same loop woke meanwhile.

    A busy machine barely moves the count, where it stretches a wall-clock reading: a
    stall of the whole process delays the ticker and the awaited timer alike and costs
    one tick, however long it lasted. So a test can bound how long something waited
    (say, a 0.3 s timeout is about 6 ticks, a 5 s one about 100) without a timed assertion.
    That holds for waits on the loop's own timers; a wait on another process's work (a
    sandbox starting, say) grows with the machine's load, in ticks as in seconds.
    """
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(interval_s)  # the point: the ticker's period
            ticks += 1

    ticking = asyncio.create_task(ticker())
    try:
        return await awaitable, ticks
    finally:
        ticking.cancel()
