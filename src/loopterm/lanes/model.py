"""The lane: which model a race runs, through which provider, at what price. No secrets in here.

A lane holds only the name of the environment variable with its key, never
the key; ``info`` is what a trace stores of it.
"""

from __future__ import annotations

import os
import re
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from loopterm.events import LaneInfo
from loopterm.keys import key_shaped, secret_like, secret_message, secret_param, without_secrets

# The provider kinds, as the lanes file spells them; ``lanes.kinds.KINDS`` declares each one.
ProviderName = Literal["openai", "gemini", "ollama", "llamacpp", "sim"]

SIM_PROVIDER = "sim"
LANE_CLASSES = ("H/AR", "H/D", "L/AR", "L/D")

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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
    query = (
        "&".join(
            f"{pair.partition('=')[0]}=***" if secret_like(pair.partition("=")[0]) else pair
            for pair in parts.query.split("&")
        )
        if parts.query
        else ""
    )
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
    base_url: str | None = Field(default=None, description="Endpoint; the provider's default when omitted.")
    api_key_env: str | None = Field(default=None, description="Name of the environment variable holding the API key.")
    lane_class: str = Field(
        default="", alias="class", description="H/L (hosted/local) and AR/D (autoregressive/diffusion)."
    )
    params: dict[str, Any] = Field(
        default_factory=dict, description="Extra request parameters passed through as they are."
    )
    price: Price | None = Field(default=None, description="Price per million tokens, when known.")
    timeout_s: float = Field(default=300.0, gt=0, description="Per-request timeout in seconds (whole generation).")
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
            raise ValueError(f"{safe_url(value)!r} is not a URL: write it as http://HOST:PORT/... or https://...")
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
                'environment variable and give its name here, e.g. api_key_env = "OPENAI_API_KEY"'
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
            params=without_secrets(self.params),
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
