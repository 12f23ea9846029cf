"""Lanes: which model a race runs, through which provider, at what price.

A lane is named on the command line by a preset (``mercury-2``), a
``provider:model`` pair (``ollama:qwen2.5-coder``, ``openai:gpt-4o``,
``sim:frontier``) or the ``name`` of a lane in a lanes file (TOML, see
``README.md``). Lanes never hold secrets: only the name of the environment
variable that holds the key.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from loopterm.events import LaneInfo
from loopterm.keys import key_shaped, secret_like

ProviderName = Literal["openai", "gemini", "ollama", "llamacpp", "sim"]

SIM_PROVIDER = "sim"
LANE_CLASSES = ("H/AR", "H/D", "L/AR", "L/D")

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def secret_param(params: Any, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """The path of the first key-like name in ``params`` (nested tables included), else None."""
    if isinstance(params, dict):
        for name, value in params.items():
            if secret_like(str(name)):
                return (*path, str(name))
            found = secret_param(value, (*path, str(name)))
            if found:
                return found
    elif isinstance(params, list):
        for item in params:
            found = secret_param(item, path)
            if found:
                return found
    return None


def safe_url(url: str | None) -> str | None:
    """``url`` with any credential masked: ``user:token@`` and key-like query values become ``***``.

    Used wherever a URL is shown or stored (traces, messages, listings); the
    request itself still goes to the URL as written.
    """
    if not url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***"
    netloc = parts.netloc
    if "@" in netloc:
        netloc = "***@" + netloc.rpartition("@")[2]
    query = "&".join(
        f"{pair.partition('=')[0]}=***" if secret_like(pair.partition("=")[0]) else pair
        for pair in parts.query.split("&")
    ) if parts.query else ""
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


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

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parts = urlsplit(value)
            ok = parts.scheme in ("http", "https") and bool(parts.hostname)
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(
                f"{safe_url(value)!r} is not a URL: write it as http://HOST:PORT/... or https://..."
            )
        return value

    @field_validator("api_key_env")
    @classmethod
    def _variable_name(cls, value: str | None) -> str | None:
        # The value is shown and stored everywhere (messages, listings,
        # traces), so a key pasted here in place of its variable's name would
        # leak: refuse it, without ever repeating it.
        if value is not None and (not _ENV_NAME.fullmatch(value) or key_shaped(value)):
            raise ValueError(
                "is not an environment variable name (is it the key itself?): put the key in an "
                "environment variable and give its name here, e.g. api_key_env = \"OPENAI_API_KEY\""
            )
        return value

    @field_validator("lane_class")
    @classmethod
    def _known_class(cls, value: str) -> str:
        if value and value not in LANE_CLASSES:
            raise ValueError(f"{value!r} is not a class: use one of {', '.join(LANE_CLASSES)}")
        return value

    @field_validator("params")
    @classmethod
    def _no_secret(cls, value: dict[str, Any]) -> dict[str, Any]:
        found = secret_param(value)
        if found:
            raise ValueError(secret_message(found))
        return value

    @property
    def simulated(self) -> bool:
        return self.provider == SIM_PROVIDER

    @property
    def shown_url(self) -> str | None:
        """``base_url`` safe to show or store (credentials masked)."""
        return safe_url(self.base_url)

    def info(self, run_id: str, run_index: int = 0) -> LaneInfo:
        """The lane as stored in a trace: no secret in here.

        Credentials in ``base_url`` are masked and key-like params dropped
        (validation rejects them; a lane built with ``model_copy`` skips it).
        """
        return LaneInfo(
            run_id=run_id,
            name=self.name,
            provider=self.provider,
            model=self.model,
            lane_class=self.lane_class,
            base_url=self.shown_url,
            api_key_env=self.api_key_env,
            params=_without_secrets(self.params),
            price_in=self.price.input if self.price else None,
            price_out=self.price.output if self.price else None,
            simulated=self.simulated,
            run_index=run_index,
        )

    def cost(self, prompt_tokens: int, completion_tokens: int) -> float | None:
        if self.price is None:
            return None
        return (prompt_tokens * self.price.input + completion_tokens * self.price.output) / 1e6


def secret_message(path: tuple[str, ...]) -> str:
    return (
        f"param '{'.'.join(path)}' would put a secret in the lanes file (and every trace): "
        "put the key in an environment variable and name it with api_key_env"
    )


def _without_secrets(params: Any) -> Any:
    if isinstance(params, dict):
        return {k: _without_secrets(v) for k, v in params.items() if not secret_like(str(k))}
    if isinstance(params, list):
        return [_without_secrets(v) for v in params]
    return params


class LaneError(ValueError):
    """A lane name or lanes file that cannot be used; the message says what to do."""


OPENAI_URL = None  # the SDK's default, https://api.openai.com/v1
INCEPTION_URL = "https://api.inceptionlabs.ai/v1"
OLLAMA_URL = "http://127.0.0.1:11434"
OLLAMA_PORT = 11434


def ollama_url() -> str:
    """Where Ollama lanes with no ``base_url`` talk: ``$OLLAMA_HOST`` read the
    way the ollama CLI reads it (``host``, ``host:port`` or a URL), else
    ``OLLAMA_URL``. LaneError when it is set to something that is no host."""
    value = os.environ.get("OLLAMA_HOST", "").strip()
    if not value:
        return OLLAMA_URL
    has_scheme = "://" in value
    try:
        parts = urlsplit(value if has_scheme else f"http://{value}")
        port = parts.port
        ok = parts.scheme in ("http", "https") and bool(parts.hostname)
    except ValueError:
        ok = False
    if not ok:
        raise LaneError(
            f"OLLAMA_HOST={safe_url(value)!r} is not a host: set it like 127.0.0.1:11434 or http://host:11434, "
            "or unset it"
        )
    host = parts.hostname or ""
    if host in ("0.0.0.0", "::"):  # the server's listen-everywhere address: a client dials this machine
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    if port is None and not has_scheme:
        port = OLLAMA_PORT
    netloc = host if port is None else f"{host}:{port}"
    if "@" in parts.netloc:
        netloc = parts.netloc.rpartition("@")[0] + "@" + netloc
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), "", ""))

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

SIM_PROFILES_HINT = "sim:fast-diffusion, sim:frontier, sim:mini, sim:weak-local"


def _pair_lane(provider: str, model: str) -> Lane:
    if provider == "ollama":
        return Lane(
            name=f"{model} (ollama)",
            provider="ollama",
            model=model,
            base_url=ollama_url(),
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


_HEADER = re.compile(r"\s*\[\[\s*lanes\s*\]\]")
_TABLE = re.compile(r"\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_PART = r"(?:\"[^\"]*\"|'[^']*'|[A-Za-z0-9_\-]+)"  # one bare or quoted key
_ASSIGN = re.compile(rf"\s*({_PART}(?:\s*\.\s*{_PART})*)\s*=")
_KEY_PART = re.compile(r"\"([^\"]*)\"|'([^']*)'|([A-Za-z0-9_\-]+)")


def _dotted(key: str) -> tuple[str, ...]:
    return tuple(a or b or c for a, b, c in _KEY_PART.findall(key))


def _lane_header_lines(text: str) -> list[int]:
    return [i + 1 for i, line in enumerate(text.splitlines()) if _HEADER.match(line)]


def _field_line(text: str, header_line: int, loc: tuple[str, ...]) -> int | None:
    """The line that sets the field at ``loc`` in the lane table starting at ``header_line``.

    Knows the three ways TOML can set ``price.input``: ``price = { input = ... }``
    (that line), ``price.input = ...`` and a ``[lanes.price]`` table with
    ``input = ...`` under it. The longest match wins.
    """
    lines = text.splitlines()
    prefix: tuple[str, ...] = ()
    best: tuple[int, int] | None = None  # (matched length, line)
    for number in range(header_line, len(lines)):
        line = lines[number]
        if _HEADER.match(line):
            break
        table = _TABLE.match(line)
        if table:
            path = _dotted(table.group(1))
            if path[:1] != ("lanes",):
                break  # another top-level table: the lane ended
            prefix = path[1:]
            path = prefix
        else:
            assign = _ASSIGN.match(line)
            if not assign:
                continue
            path = prefix + _dotted(assign.group(1))
        size = len(path)
        if size and path == loc[:size] and (best is None or size > best[0]):
            best = (size, number + 1)
    return best[1] if best else None


def _line_of(text: str, pattern: str) -> int | None:
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(pattern, line):
            return number
    return None


def _message(err: Any) -> str:
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


def _is_sim_profile(model: str) -> bool:
    from loopterm.providers.sim import PROFILES

    return model in PROFILES


def load_lanes_file(path: Path) -> dict[str, Lane]:
    """Read a lanes TOML file; errors name the file, line and field."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LaneError(f"{path}: no such lanes file; check the path") from None
    except OSError as exc:
        raise LaneError(f"{path}: cannot read lanes file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        bad = exc.object[exc.start:exc.start + 1]
        raise LaneError(f"{path}: not UTF-8 text (byte {exc.start} is {bad!r}); save the file as UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LaneError(f"{path}: not valid TOML: {exc}") from None
    for key in data:
        if key != "lanes":
            # A typo such as [[lane]] would otherwise leave the file silently empty.
            name = re.escape(key)
            line = _line_of(text, rf"\s*(\[\[?\s*{name}\s*[\].]|\"?{name}\"?\s*[=.])")
            where = f"{path}:{line}" if line else str(path)
            raise LaneError(f"{where}: unknown table or key '{key}': a lanes file holds only [[lanes]] tables")
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
        label = item.get("name", f"#{index + 1}")
        secret = secret_param(item.get("params"))
        if secret:
            key_line = _field_line(text, line, ("params", *secret)) if line else None
            where = f"{path}:{key_line}" if key_line else where
            raise LaneError(f"{where}: lane {label!r}: {secret_message(secret)}")
        try:
            lane = Lane.model_validate(item)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = tuple(str(p) for p in err["loc"])
            field = ".".join(loc) or "lane"
            key_line = _field_line(text, line, loc) if loc and line else None
            if key_line:
                where = f"{path}:{key_line}"
            raise LaneError(f"{where}: lane {label!r}: field '{field}': {_message(err)}") from None
        if lane.provider == SIM_PROVIDER and not _is_sim_profile(lane.model):
            key_line = _field_line(text, line, ("model",)) if line else None
            where = f"{path}:{key_line}" if key_line else where
            raise LaneError(f"{where}: lane {label!r}: field 'model': unknown simulated profile "
                            f"{lane.model!r}; choose one of {SIM_PROFILES_HINT.replace('sim:', '')}")
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
