"""Waiting for something to happen, instead of sleeping and hoping it did.

A test waits on the condition itself and goes on the moment it holds, so a quick
machine is not slowed down and a busy one is not failed. The deadline only turns a
hang into a failure with a message: it is generous and is never what a test
measures. (Under Pilot, ``support.tui_pilot.until`` does the same and lets the app
process its messages between looks.)
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

DEADLINE_S = 60.0  # a sandbox or an interpreter starting on two shared, busy cores can take seconds
POLL_S = 0.01


async def wait_for(
    condition: Callable[[], T], timeout: float = DEADLINE_S, *, what: str = "the condition", poll_s: float = POLL_S
) -> T:
    """Look at ``condition`` on this event loop until it gives something true, and return that.

    ``what`` names the condition in the failure: ``wait_for(lambda: pids, what="a candidate process")``.
    """
    deadline = time.monotonic() + timeout
    while not (found := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what} after {timeout:g} s")
        await asyncio.sleep(poll_s)  # poll
    return found
