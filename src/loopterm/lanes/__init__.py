"""Lanes: which model a race runs, through which provider, at what price.

A lane is named on the command line by a preset (``mercury-2``), a
``provider:model`` pair (``ollama:qwen2.5-coder``, ``openai:gpt-4o``,
``sim:frontier``) or the ``name`` of a lane in a lanes file (TOML, see
``README.md``). Lanes never hold secrets: only the name of the environment
variable that holds the key.

The package, by job: ``model`` (the Lane), ``kinds`` (the provider
registry), ``sims`` (the simulated profiles' data), ``presets`` (presets and
name resolution), ``lanesfile`` (the TOML loader). The names below are its
public face.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loopterm.lanes.kinds import KINDS, ProviderKind, key_problem, kind_of, pair_lane, server_url
    from loopterm.lanes.lanesfile import load_lanes_file, load_user_lanes
    from loopterm.lanes.model import (
        LANE_CLASSES,
        OLLAMA_URL,
        SIM_PROVIDER,
        Lane,
        LaneError,
        Price,
        ProviderName,
        ollama_url,
        safe_url,
    )
    from loopterm.lanes.presets import PRESETS, resolve
    from loopterm.lanes.sims import DEFAULT_SIM_LANES, PROFILES, SimProfile, profiles_hint

# Where each public name lives. Loaded on first use, so ``loopterm --help`` can read
# the simulated profiles (``lanes.sims``) without importing pydantic for the Lane model.
_HOMES = {
    "KINDS": "kinds",
    "ProviderKind": "kinds",
    "key_problem": "kinds",
    "kind_of": "kinds",
    "pair_lane": "kinds",
    "server_url": "kinds",
    "load_lanes_file": "lanesfile",
    "load_user_lanes": "lanesfile",
    "LANE_CLASSES": "model",
    "OLLAMA_URL": "model",
    "SIM_PROVIDER": "model",
    "Lane": "model",
    "LaneError": "model",
    "Price": "model",
    "ProviderName": "model",
    "ollama_url": "model",
    "safe_url": "model",
    "PRESETS": "presets",
    "resolve": "presets",
    "DEFAULT_SIM_LANES": "sims",
    "PROFILES": "sims",
    "SimProfile": "sims",
    "profiles_hint": "sims",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'loopterm.lanes' has no attribute {name!r}")
    return getattr(importlib.import_module(f"loopterm.lanes.{home}"), name)


__all__ = [
    "DEFAULT_SIM_LANES",
    "KINDS",
    "LANE_CLASSES",
    "OLLAMA_URL",
    "PRESETS",
    "PROFILES",
    "SIM_PROVIDER",
    "Lane",
    "LaneError",
    "Price",
    "ProviderKind",
    "ProviderName",
    "SimProfile",
    "key_problem",
    "kind_of",
    "load_lanes_file",
    "load_user_lanes",
    "ollama_url",
    "pair_lane",
    "profiles_hint",
    "resolve",
    "safe_url",
    "server_url",
]
