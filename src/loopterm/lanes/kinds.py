"""The provider registry: each kind of provider declared once.

A kind says which module runs it (imported only when a lane of that kind
runs: SDK imports are slow), what ``kind:model`` means on the command line,
when its endpoint needs a key the lane does not name, which request param
caps an answer (for ``loopterm lanes --check``), where it talks by default,
and what else must be installed for it to run here. Lanes, readiness,
``lanes --check``, the CLI and ``providers.make_provider`` all read this
table; nothing else branches on a provider's name.

"Is the key set?" is decided here, once (``key_problem``), with one message
that the race refusal, ``loopterm lanes`` and a provider's MISSING_KEY share.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from loopterm.lanes.model import Lane, LaneError, Price, ollama_url
from loopterm.lanes.sims import PROFILES, profiles_hint


@dataclass(frozen=True)
class ProviderKind:
    name: str  # the lanes file's ``provider`` and the ``kind:`` of a command-line pair
    module: str  # the module with the provider class (and its SDK import)
    factory: str  # the provider class in ``module``
    pair: Callable[[str], Lane] | None  # the lane ``name:model`` means; None: no such pairs
    needs_key: Callable[[Lane], str | None]  # a lane naming no key variable that must: what to do
    cap: Callable[[Lane, int], dict[str, int]]  # params that cap an answer at n tokens (``lanes --check``)
    default_url: Callable[[], str] | None = None  # where a lane without base_url talks, if a server we can probe
    installed: str | None = None  # "module:function" saying what is missing to run here, None when nothing
    ready_detail: str = ""  # what readiness says of a lane of this kind that needs nothing


def _no_key_needed(lane: Lane) -> str | None:
    return None


def _openai_needs_key(lane: Lane) -> str | None:
    if lane.base_url is None:
        return "api.openai.com needs a key: set api_key_env (e.g. OPENAI_API_KEY) for this lane"
    return None


def _gemini_needs_key(lane: Lane) -> str | None:
    return "Gemini always needs a key: set api_key_env (e.g. GEMINI_API_KEY) for this lane"


def _openai_cap(lane: Lane, tokens: int) -> dict[str, int]:
    if {"max_tokens", "max_completion_tokens"} & lane.params.keys():
        return {}  # the lane chose its param: adding the other could make the server refuse both
    # OpenAI's newer models refuse max_tokens; other servers may not know its successor.
    return {"max_completion_tokens" if lane.base_url is None else "max_tokens": tokens}


def _cap_with(param: str) -> Callable[[Lane, int], dict[str, int]]:
    return lambda lane, tokens: {param: tokens}


def _openai_pair(model: str) -> Lane:
    return Lane(name=model, provider="openai", model=model, api_key_env="OPENAI_API_KEY", lane_class="H/AR")


def _gemini_pair(model: str) -> Lane:
    return Lane(name=model, provider="gemini", model=model, api_key_env="GEMINI_API_KEY", lane_class="H/AR")


def _ollama_pair(model: str) -> Lane:
    return Lane(
        name=f"{model} (ollama)",
        provider="ollama",
        model=model,
        base_url=ollama_url(),
        lane_class="L/AR",
        price=Price(input=0, output=0),
    )


def _sim_pair(model: str) -> Lane:
    if model not in PROFILES:
        raise LaneError(f"unknown simulated profile 'sim:{model}'; choose one of {profiles_hint()}")
    return PROFILES[model].lane()


KINDS: dict[str, ProviderKind] = {
    kind.name: kind
    for kind in (
        ProviderKind(
            "openai", "loopterm.providers.openai_compat", "OpenAIProvider", _openai_pair, _openai_needs_key, _openai_cap
        ),
        ProviderKind(
            "gemini",
            "loopterm.providers.gemini",
            "GeminiProvider",
            _gemini_pair,
            _gemini_needs_key,
            _cap_with("max_output_tokens"),
        ),
        ProviderKind(
            "ollama",
            "loopterm.providers.ollama_native",
            "OllamaProvider",
            _ollama_pair,
            _no_key_needed,
            _cap_with("num_predict"),
            default_url=ollama_url,
        ),
        ProviderKind(
            "llamacpp",
            "loopterm.providers.llamacpp",
            "LlamaCppProvider",
            None,
            _no_key_needed,
            _cap_with("max_tokens"),
            installed="loopterm.providers.llamacpp:readiness",
            ready_detail="in-process, offline",
        ),
        ProviderKind(
            "sim",
            "loopterm.providers.sim",
            "SimProvider",
            _sim_pair,
            _no_key_needed,
            _cap_with("max_tokens"),
            ready_detail="simulated: offline, no key",
        ),
    )
}

PAIRABLE = tuple(f"{name}:" for name, kind in KINDS.items() if kind.pair is not None)


def kind_of(lane: Lane) -> ProviderKind:
    return KINDS[lane.provider]


def pair_lane(provider: str, model: str) -> Lane:
    """The lane a command-line ``provider:model`` pair names."""
    kind = KINDS.get(provider)
    if kind is None or kind.pair is None:
        raise LaneError(
            f"unknown provider '{provider}' in '{provider}:{model}'; use {', '.join(PAIRABLE)} "
            "or a lane from your lanes file"
        )
    return kind.pair(model)


def key_problem(lane: Lane) -> str | None:
    """What stops this lane from sending its key, in words that say what to do; None when nothing does.

    Decided from the variable's presence only: its value is never read here
    past "is it set".
    """
    var = lane.api_key_env
    if var:
        return None if os.environ.get(var, "").strip() else f"no key: set {var}"
    return kind_of(lane).needs_key(lane)


def server_url(lane: Lane) -> str | None:
    """The URL a lane talks to (None: the SDK's hosted default, or in-process)."""
    if lane.base_url is not None:
        return lane.base_url
    default = kind_of(lane).default_url
    return default() if default is not None else None
