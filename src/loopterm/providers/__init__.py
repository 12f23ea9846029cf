"""Providers: one module per wire protocol, plus simulated models.

``make_provider`` imports the SDK a lane needs only when that lane is used.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import TYPE_CHECKING

from loopterm.providers.base import Provider

if TYPE_CHECKING:
    from loopterm.lanes import Lane
    from loopterm.tasks import Task


# The module behind each provider kind; importing one imports its SDK.
_MODULES = {
    "sim": "loopterm.providers.sim",
    "openai": "loopterm.providers.openai_compat",
    "gemini": "loopterm.providers.gemini",
    "ollama": "loopterm.providers.ollama_native",
    "llamacpp": "loopterm.providers.llamacpp",
}


def preload(kinds: Iterable[str]) -> None:
    """Import the modules (and SDKs) of these provider kinds now.

    ``import openai`` or ``google.genai`` takes over a second; done inside a
    running race it would freeze every lane on the loop and count against the
    lane that imported it. Races call this before their clock starts.
    """
    for kind in sorted(set(kinds)):
        if kind in _MODULES:
            importlib.import_module(_MODULES[kind])


def make_provider(
    lane: Lane, *, task: Task | None = None, seed: int | None = None, time_scale: float = 1.0
) -> Provider:
    """The provider for one lane run. ``task``, ``seed`` and ``time_scale`` feed sim lanes."""
    if lane.provider == "sim":
        from loopterm.providers.sim import SimProvider

        if task is None:
            raise ValueError("a simulated lane needs the task it pretends to solve")
        return SimProvider(lane, task=task, seed=seed, time_scale=time_scale)
    if lane.provider == "openai":
        from loopterm.providers.openai_compat import OpenAIProvider

        return OpenAIProvider(lane)
    if lane.provider == "gemini":
        from loopterm.providers.gemini import GeminiProvider

        return GeminiProvider(lane)
    if lane.provider == "ollama":
        from loopterm.providers.ollama_native import OllamaProvider

        return OllamaProvider(lane)
    if lane.provider == "llamacpp":
        from loopterm.providers.llamacpp import LlamaCppProvider

        return LlamaCppProvider(lane)
    raise ValueError(f"unknown provider {lane.provider!r}")
