"""Lanes: which model a race runs, through which provider, at what price.

A lane is named on the command line by a preset (``mercury-2``), a
``provider:model`` pair (``ollama:qwen2.5-coder``, ``openai:gpt-4o``,
``sim:frontier``) or the ``name`` of a lane in a lanes file (TOML, see
``README.md``). Lanes never hold secrets: only the name of the environment
variable that holds the key.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from loopterm.events import LaneInfo

ProviderName = Literal["openai", "gemini", "ollama", "llamacpp", "sim"]

SIM_PROVIDER = "sim"


class Price(BaseModel):
    """Price in US dollars per million tokens."""

    model_config = ConfigDict(extra="forbid")
    input: float = Field(ge=0, description="Dollars per million prompt tokens.")
    output: float = Field(ge=0, description="Dollars per million completion tokens.")


class Lane(BaseModel):
    """One model in a race."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    name: str = Field(min_length=1, description="Label shown in panes, tables and traces.")
    provider: ProviderName = Field(description="Wire protocol: openai, gemini, ollama, llamacpp or sim.")
    model: str = Field(min_length=1, description="Model id sent to the provider (or sim profile).")
    base_url: str | None = Field(
        default=None, description="Endpoint; the provider's default when omitted."
    )
    api_key_env: str | None = Field(
        default=None, description="Name of the environment variable holding the API key."
    )
    lane_class: str = Field(
        default="", alias="class", description="H/L (hosted/local) and AR/D (autoregressive/diffusion)."
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="Extra request parameters passed through as they are."
    )
    price: Price | None = Field(default=None, description="Price per million tokens, when known.")
    timeout_s: float = Field(
        default=300.0, gt=0, description="Per-request timeout in seconds (whole generation)."
    )
    max_retries: int = Field(
        default=3, ge=0, le=10, description="Retries for rate limits, 5xx, timeouts and cut streams."
    )

    @property
    def simulated(self) -> bool:
        return self.provider == SIM_PROVIDER

    def info(self, run_id: str, run_index: int = 0) -> LaneInfo:
        """The lane as stored in a trace (no secret can be in here)."""
        return LaneInfo(
            run_id=run_id,
            name=self.name,
            provider=self.provider,
            model=self.model,
            lane_class=self.lane_class,
            base_url=self.base_url,
            api_key_env=self.api_key_env,
            params=self.params,
            price_in=self.price.input if self.price else None,
            price_out=self.price.output if self.price else None,
            simulated=self.simulated,
            run_index=run_index,
        )

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        if self.price is None:
            return None
        return (prompt_tokens * self.price.input + completion_tokens * self.price.output) / 1e6


class LaneError(ValueError):
    """A lane name or lanes file that cannot be used; the message says what to do."""


OPENAI_URL = None  # the SDK's default, https://api.openai.com/v1
INCEPTION_URL = "https://api.inceptionlabs.ai/v1"
OLLAMA_URL = "http://127.0.0.1:11434"

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
    ),
}

SIM_PROFILES_HINT = "sim:fast-diffusion, sim:frontier, sim:mini, sim:weak-local"


def _pair_lane(provider: str, model: str) -> Lane:
    if provider == "ollama":
        return Lane(
            name=f"{model} (ollama)",
            provider="ollama",
            model=model,
            base_url=OLLAMA_URL,
            lane_class="L/AR",
            price=Price(input=0, output=0),
        )
    if provider == "openai":
        return Lane(name=model, provider="openai", model=model, api_key_env="OPENAI_API_KEY", lane_class="H/AR")
    if provider == "gemini":
        return Lane(name=model, provider="gemini", model=model, api_key_env="GEMINI_API_KEY", lane_class="H/AR")
    if provider == "sim":
        from loopterm.providers.sim import PROFILES

        if model not in PROFILES:
            raise LaneError(
                f"unknown simulated profile 'sim:{model}'; choose one of {SIM_PROFILES_HINT}"
            )
        return PROFILES[model].lane()
    raise LaneError(
        f"unknown provider '{provider}' in '{provider}:{model}'; use openai:, gemini:, ollama:, "
        "sim: or a lane from your lanes file"
    )


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
            return _pair_lane(provider, model)
    known = ", ".join([*PRESETS, *file_lanes])
    raise LaneError(
        f"unknown lane '{spec}'; use a preset ({known}), a provider:model pair such as "
        f"ollama:llama3.2 or {SIM_PROFILES_HINT}, or add it to your lanes file"
    )


def _lane_header_lines(text: str) -> list[int]:
    return [i + 1 for i, line in enumerate(text.splitlines()) if re.match(r"\s*\[\[\s*lanes\s*\]\]", line)]


def _key_line(text: str, header_line: int, key: str) -> int | None:
    """The line of ``key = ...`` inside the lane table that starts at ``header_line``."""
    lines = text.splitlines()
    for number in range(header_line, len(lines)):
        line = lines[number]
        if re.match(r"\s*\[", line):
            break
        if re.match(rf"\s*\"?{re.escape(key)}\"?\s*=", line):
            return number + 1
    return None


def load_lanes_file(path: Path) -> dict[str, Lane]:
    """Read a lanes TOML file; errors name the file, line and field."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LaneError(f"{path}: no such lanes file; check the path") from None
    except OSError as exc:
        raise LaneError(f"{path}: cannot read lanes file: {exc.strerror}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LaneError(f"{path}: not valid TOML: {exc}") from None
    raw = data.get("lanes", [])
    if not isinstance(raw, list):
        raise LaneError(f"{path}: 'lanes' must be an array of tables, written [[lanes]]")
    lines = _lane_header_lines(text)
    lanes: dict[str, Lane] = {}
    for index, item in enumerate(raw):
        line = lines[index] if index < len(lines) else 0
        where = f"{path}:{line}" if line else str(path)
        if not isinstance(item, dict):
            raise LaneError(f"{where}: lane {index + 1} must be a table")
        try:
            lane = Lane.model_validate(item)
        except ValidationError as exc:
            err = exc.errors()[0]
            field = ".".join(str(p) for p in err["loc"]) or "lane"
            label = item.get("name", f"#{index + 1}")
            key_line = _key_line(text, line, str(err["loc"][0])) if err["loc"] else None
            if key_line:
                where = f"{path}:{key_line}"
            raise LaneError(f"{where}: lane {label!r}: field '{field}': {err['msg']}") from None
        if lane.name in lanes:
            raise LaneError(f"{where}: lane name {lane.name!r} is used twice; names must be unique")
        lanes[lane.name] = lane
    return lanes


def load_user_lanes(path: Path | None = None) -> dict[str, Lane]:
    """The lanes of ``path`` (``--lanes FILE``), else of the user's lanes file if it exists."""
    if path is not None:
        return load_lanes_file(path)
    from loopterm.paths import lanes_file

    default = lanes_file()
    return load_lanes_file(default) if default.is_file() else {}
