"""Presets and how a command-line lane name becomes a lane."""

from __future__ import annotations

from loopterm.lanes.kinds import pair_lane
from loopterm.lanes.model import INCEPTION_URL, Lane, LaneError, Price
from loopterm.lanes.sims import profiles_hint

# Prices are the providers' published list prices where we know them; unknown
# prices stay None (cost shows as n/a) rather than a guess. Set `price` in a
# lanes file to override.
PRESETS: dict[str, Lane] = {
    "mercury-2": Lane(
        name="Mercury 2",
        provider="openai",
        model="mercury-2",
        base_url=INCEPTION_URL,
        api_key_env="INCEPTION_API_KEY",
        lane_class="H/D",
        price=Price(input=0.25, output=0.75),
        params={"reasoning_effort": "instant"},
    ),
    "gpt-5.4": Lane(
        name="GPT-5.4",
        provider="openai",
        model="gpt-5.4",
        api_key_env="OPENAI_API_KEY",
        lane_class="H/AR",
    ),
    "gpt-5.4-mini": Lane(
        name="GPT-5.4 mini",
        provider="openai",
        model="gpt-5.4-mini",
        api_key_env="OPENAI_API_KEY",
        lane_class="H/AR",
    ),
    "gpt-4.1-mini": Lane(
        name="GPT-4.1 mini",
        provider="openai",
        model="gpt-4.1-mini",
        api_key_env="OPENAI_API_KEY",
        lane_class="H/AR",
        price=Price(input=0.40, output=1.60),
    ),
    "gemini-2.5-flash": Lane(
        name="Gemini 2.5 Flash",
        provider="gemini",
        model="gemini-2.5-flash",
        api_key_env="GEMINI_API_KEY",
        lane_class="H/AR",
        price=Price(input=0.30, output=2.50),
        params={"thinking_budget": 0},
    ),
    "local:smollm2": Lane(
        name="SmolLM2 135M (local)",
        provider="llamacpp",
        model="smollm2",
        lane_class="L/AR",
        price=Price(input=0, output=0),
        max_retries=0,
        # A CPU reads a ~5k-token prompt at ~30 tokens/s here: one turn took 224 s on 2 busy
        # cores, and later turns' prompts are longer, so 300 s would cut honest turns short.
        timeout_s=900,
    ),
}


def resolve(spec: str, file_lanes: dict[str, Lane] | None = None) -> Lane:
    """Turn a command-line lane name into a Lane.

    Order: a lane of that name in the lanes file, a preset, then a
    ``provider:model`` pair.
    """
    file_lanes = file_lanes or {}
    if spec in file_lanes:
        return file_lanes[spec]
    if spec in PRESETS:
        return PRESETS[spec].model_copy(deep=True)
    if ":" in spec:
        provider, _, model = spec.partition(":")
        if provider and model:
            return pair_lane(provider, model)
    known = ", ".join([*PRESETS, *file_lanes])
    raise LaneError(
        f"unknown lane '{spec}'; use a preset ({known}), a provider:model pair such as "
        f"ollama:llama3.2 or {profiles_hint()}, or add it to your lanes file"
    )
