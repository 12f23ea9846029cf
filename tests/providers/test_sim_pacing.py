"""Simulated models type against deadlines on the clock: a busy process does not stretch their answers."""

from __future__ import annotations

import asyncio
import dataclasses
import time

import pytest

from loopterm.providers import sim
from loopterm.tasks import find_task

pytestmark = pytest.mark.anyio


async def test_a_blocked_loop_does_not_add_its_time_to_a_simulated_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    # A profile that streams for about 1 s (no jitter). The loop is then blocked for 1.5 s
    # right after the first token: with a sleep per tick the block would be added on top
    # (about 2.5 s); against deadlines the answer ends right after the block (about 1.5 s).
    # What is asserted is what the provider asks to sleep once the block is over, not a
    # wall-clock time: every deadline has passed by then, so it asks for none, and a busy
    # machine can only make that less (a sleep per tick would still ask for ~0.95 s).
    base = sim.PROFILES["fast-diffusion"]
    provider = sim.SimProvider(base.lane(), task=find_task(), seed=1, time_scale=1.0)
    text_tokens = 2000
    monkeypatch.setattr(provider, "_answer", lambda messages: "x" * (4 * text_tokens))
    provider.profile = dataclasses.replace(base, ttft_s=0.05, tokens_per_s=text_tokens / 1.0, jitter=0.0)

    typing = asyncio.Event()
    block_over = float("inf")
    asked: list[tuple[float, float]] = []  # (when, how long) of every sleep asked for
    real_sleep = asyncio.sleep

    async def recording_sleep(delay: float, result: object = None) -> object:
        asked.append((time.perf_counter(), delay))
        return await real_sleep(delay, result)

    monkeypatch.setattr(asyncio, "sleep", recording_sleep)

    async def block_once_it_types() -> None:
        nonlocal block_over
        await typing.wait()
        time.sleep(1.5)  # the point: the whole process is busy, no tick can run
        block_over = time.perf_counter()

    blocker = asyncio.create_task(block_once_it_types())
    generation = await provider.generate([{"role": "user", "content": "go"}], lambda chars, tokens: typing.set())
    await blocker
    assert generation.generation_s >= 1.5  # it did wait through the block
    assert len(asked) > 10  # it typed in ticks, each asked for through asyncio.sleep
    after = sum(delay for when, delay in asked if when >= block_over)
    assert after < 0.1, f"after the block it still asked to sleep {after:.2f} s: the block was added to the typing"
