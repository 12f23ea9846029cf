"""Providers: one module per wire protocol, plus simulated models.

Which module and class serve a provider kind is declared once, in the
registry (``loopterm.lanes.kinds``); ``make_provider`` imports that module,
and with it the SDK, only when a lane of that kind is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from loopterm.lanes.kinds import KINDS, kind_of
from loopterm.providers.base import Provider

if TYPE_CHECKING:
    from loopterm.lanes import Lane
    from loopterm.tasks import Task


def preload(kinds: Iterable[str]) -> None:
    """Import the modules (and SDKs) of these provider kinds now.

    ``import openai`` or ``google.genai`` takes over a second; done inside a
    running race it would freeze every lane on the loop and count against the
    lane that imported it. Races call this before their clock starts.
    """
    for kind in sorted(set(kinds)):
        if kind in KINDS:
            importlib.import_module(KINDS[kind].module)


def make_provider(
    lane: Lane, *, task: Task | None = None, seed: int | None = None, time_scale: float = 1.0
) -> Provider:
    """The provider for one lane run. ``task``, ``seed`` and ``time_scale`` feed sim lanes."""
    kind = kind_of(lane)
    factory = getattr(importlib.import_module(kind.module), kind.factory)
    if lane.simulated:
        if task is None:
            raise ValueError("a simulated lane needs the task it pretends to solve")
        provider: Provider = factory(lane, task=task, seed=seed, time_scale=time_scale)
        return provider
    real: Provider = factory(lane)
    return real
