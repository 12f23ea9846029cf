"""The provider interface: chat messages in, a streamed answer and a Generation out.

A provider never raises for a model or network failure: it retries what is
retryable (bounded, with backoff), records each retry, and returns a
Generation whose ``error``/``error_kind`` say what finally went wrong. Only
cancellation propagates, promptly. Progress is reported through a callback as
the text streams, so live panes can show tokens so far and tokens/s.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Literal, Protocol, TypedDict

from pydantic import BaseModel, Field

from loopterm.events import RetryRecord, TokenUsage


class ChatMessage(TypedDict):
    role: Literal["system", "user", "assistant"]
    content: str


class ErrorKind(StrEnum):
    """One kind per thing a user can act on; ``retryable`` ones are retried."""

    MISSING_KEY = "missing_key"
    UNREACHABLE = "unreachable"
    AUTH = "auth"
    MODEL_NOT_FOUND = "model_not_found"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    TIMEOUT = "timeout"
    STREAM_CUT = "stream_cut"
    BAD_REQUEST = "bad_request"
    UNAVAILABLE = "unavailable"  # e.g. the local extra is not installed
    PROTOCOL = "protocol"  # the reply was not the wire protocol we speak (wrong base_url?)

    @property
    def retryable(self) -> bool:
        return self in RETRYABLE


RETRYABLE = frozenset(
    {ErrorKind.UNREACHABLE, ErrorKind.RATE_LIMITED, ErrorKind.SERVER_ERROR, ErrorKind.TIMEOUT, ErrorKind.STREAM_CUT}
)


class ProviderError(Exception):
    """A classified failure of one request; ``str()`` is the one-line user message."""

    def __init__(self, kind: ErrorKind, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after


class Generation(BaseModel):
    """The result of one generate() call, retries included."""

    text: str = ""
    ttft_s: float | None = Field(default=None, description="Request start to first text, last attempt.")
    generation_s: float = Field(default=0.0, description="Request start to end of stream, last attempt.")
    usage: TokenUsage = Field(
        default_factory=TokenUsage,
        description="Tokens of every attempt the server billed (any that streamed text), retries included.",
    )
    cost: float | None = Field(default=None, description="Price of ``usage``; None when unknown or unbilled.")
    error: str | None = None
    error_kind: ErrorKind | None = None
    retries: list[RetryRecord] = Field(default_factory=list)
    provider_timing: dict[str, float] = Field(
        default_factory=dict,
        description="Durations the server or runtime reported, in seconds (e.g. Ollama's eval_s).",
    )
    stopped_at_cap: bool = Field(
        default=False,
        description="The answer passed loopterm.bounds.ANSWER_MAX_BYTES and reading stopped there: "
        "``text`` is only its start.",
    )


ProgressCallback = Callable[[int, int], None]
"""Called as text arrives with (characters so far, tokens so far)."""


class Provider(Protocol):
    async def generate(
        self, messages: list[ChatMessage], on_progress: ProgressCallback | None = None
    ) -> Generation: ...


def estimate_tokens(text: str) -> int:
    """A rough token count (4 characters a token) for providers that give none."""
    return max(1, round(len(text) / 4)) if text else 0
