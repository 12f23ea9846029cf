"""Simulated models: real code, real validation, pretend latency.

A profile says how fast a model is (time to first token, tokens per second)
and how competent (chance to one-shot, how many faults its first try has,
the fraction of the faults named by the feedback it fixes each turn, its
chance to regress, a floor of faults it never gets past). The code it writes
is the task's reference with faults from the task's fault catalogue applied
(and without the reference's own module docstring, which speaks of the
reference and its faults: on a projector that would give the trick away);
each turn it reads the real failing check ids in the feedback it is sent and
removes the faults behind them. Validation is always the real suite, so the
scores, statuses and timings of the harness are real; only the model is not.

The numbers are illustrative, shaped after published figures (a diffusion
model at ~3 s a turn that needs feedback; a frontier model at ~40-90 s a turn
that often one-shots; a weak local model that never passes). They are not
measurements of any real model, and sim lanes are labelled as simulated
everywhere they appear.
"""

from __future__ import annotations

import ast
import asyncio
import random
import re
import time

from loopterm.events import TokenUsage
from loopterm.faults import Fault, apply_faults
from loopterm.lanes.model import Lane
from loopterm.lanes.sims import PROFILES
from loopterm.providers.base import ChatMessage, Generation, ProgressCallback, estimate_tokens
from loopterm.tasks import Task

# How often progress is reported while streaming, in (scaled) seconds.
_TICK_S = 0.05


def answer_base(reference: str) -> str:
    """The code a simulated model starts from: ``reference`` without its module docstring.

    A reference's docstring is written for the project ("the reference candidate...
    faults.py edits exact snippets of it"), not as a model would write it. Comments
    before it and everything after it stay, byte for byte, so every fault's snippet
    still applies. A reference that does not parse is left as it is.
    """
    try:
        body = ast.parse(reference).body
    except (SyntaxError, ValueError):
        return reference
    first = body[0] if body else None
    if not (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
        and first.end_lineno is not None
    ):
        return reference
    lines = reference.splitlines(keepends=True)
    # (ast's column offsets count UTF-8 bytes)
    if lines[first.end_lineno - 1].encode()[first.end_col_offset :].strip():
        return reference  # code after the docstring on its last line: not worth the risk
    rest = lines[first.end_lineno :]
    while rest and not rest[0].strip():  # the blank lines that set the docstring apart
        rest.pop(0)
    return "".join(lines[: first.lineno - 1] + rest)


def _failing_ids(feedback: str, known: set[str]) -> set[str]:
    """Check ids the feedback names; ids are matched whole, never as substrings."""
    words = set(re.findall(r"[A-Za-z0-9_.:-]+", feedback))
    return {w.rstrip(".:") for w in words} & known


class SimProvider:
    """One simulated model run; keeps its own fault state across turns."""

    def __init__(self, lane: Lane, *, task: Task, seed: int | None, time_scale: float) -> None:
        if lane.model not in PROFILES:
            raise ValueError(f"unknown sim profile {lane.model!r}")
        self.profile = PROFILES[lane.model]
        self.lane = lane
        self.task = task
        self.time_scale = max(0.0, time_scale)
        self.rng = random.Random(seed)
        self.catalogue: list[Fault] = list(task.faults)
        self.check_ids = {c.id for c in task.suite.checks}
        self.base = answer_base(task.reference_source)
        self.faults: list[Fault] | None = None  # None until the first answer

    # -- what the model "thinks" -------------------------------------------------
    def _first_faults(self) -> list[Fault]:
        p = self.profile
        if self.rng.random() < p.one_shot or not self.catalogue:
            return []
        low, high = p.first_faults
        count = min(len(self.catalogue), max(p.floor, self.rng.randint(low, high)))
        return self.rng.sample(self.catalogue, count)

    def _next_faults(self, feedback: str) -> list[Fault]:
        assert self.faults is not None
        p = self.profile
        named = _failing_ids(feedback, self.check_ids)
        keep: list[Fault] = []
        for f in self.faults:
            visible = bool(f.breaks & named)
            if visible and self.rng.random() < p.fix_rate:
                continue
            keep.append(f)
        # A weak model re-breaks things while fixing others.
        if self.rng.random() < p.regression:
            spare = [f for f in self.catalogue if f not in keep]
            if spare:
                keep.append(self.rng.choice(spare))
        while len(keep) < p.floor:
            spare = [f for f in self.catalogue if f not in keep]
            if not spare:
                break
            keep.append(self.rng.choice(spare))
        return keep

    def _answer(self, messages: list[ChatMessage]) -> str:
        feedback = messages[-1]["content"] if messages else ""
        self.faults = self._first_faults() if self.faults is None else self._next_faults(feedback)
        if self.rng.random() < self.profile.no_code:
            return "I have reviewed the failures and the approach looks right to me; no change needed."
        # Catalogue order keeps the faults' snippets applying in a stable order.
        ordered = [f for f in self.catalogue if f in self.faults]
        code = apply_faults(self.base, ordered)
        return f"Here is the complete implementation.\n\n```python\n{code}```\n"

    # -- how fast it "types" ------------------------------------------------------
    def _scaled(self, seconds: float) -> float:
        spread = 1 + self.rng.uniform(-self.profile.jitter, self.profile.jitter)
        return max(0.0, seconds * spread * self.time_scale)

    async def generate(self, messages: list[ChatMessage], on_progress: ProgressCallback | None = None) -> Generation:
        start = time.perf_counter()
        text = self._answer(messages)
        total_tokens = estimate_tokens(text)
        ttft = self._scaled(self.profile.ttft_s)
        stream_s = self._scaled(total_tokens / self.profile.tokens_per_s)
        # Every tick has a deadline on the clock, counted from the start: a busy process
        # that wakes late catches up on the next tick instead of stretching the answer.
        await _sleep_until(start + ttft)
        first = time.perf_counter() - start
        ticks = max(1, int(stream_s / _TICK_S)) if stream_s > 0 else 1
        for i in range(1, ticks + 1):
            chars = len(text) * i // ticks
            if on_progress is not None:
                on_progress(chars, estimate_tokens(text[:chars]))
            if stream_s > 0:
                await _sleep_until(start + ttft + stream_s * i / ticks)
            else:
                await asyncio.sleep(0)
        prompt_tokens = sum(estimate_tokens(m["content"]) for m in messages)
        return Generation(
            text=text,
            ttft_s=first,
            generation_s=time.perf_counter() - start,
            usage=TokenUsage(prompt=prompt_tokens, completion=total_tokens, estimated=True),
            cost=0.0,
        )


async def _sleep_until(deadline: float) -> None:
    """Sleep until ``deadline`` on ``time.perf_counter``'s clock (at once when it has passed)."""
    await asyncio.sleep(max(0.0, deadline - time.perf_counter()))
