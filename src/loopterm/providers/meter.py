"""One attempt's answer as it streams in: its text, timing and token counts, bounded.

Every streaming provider feeds the text it reads into a ``StreamMeter``; the
meter reports progress, stops reading past ``ANSWER_MAX_BYTES``, and says
what the attempt cost (``attempt_usage``).
"""

from __future__ import annotations

import time

from loopterm.bounds import ANSWER_MAX_BYTES, head_bytes, utf8_size
from loopterm.events import TokenUsage
from loopterm.providers.base import ChatMessage, ProgressCallback, estimate_tokens


class CallbackFailed(Exception):
    """A progress callback raised: that is the caller's bug, not the model's, so re-raise it."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(repr(original))
        self.original = original


class AnswerTooLong(Exception):
    """Raised by ``StreamMeter.add`` to stop reading a stream that passed ``max_bytes``."""


class StreamMeter:
    """Collects one attempt's text and times it on a monotonic clock.

    Bounded: past ``max_bytes`` (``ANSWER_MAX_BYTES``) of text it keeps only
    the first ``max_bytes``, sets ``stopped``, and raises ``AnswerTooLong`` out
    of the provider's read loop, so a model streaming megabytes is neither
    buffered nor read to its end. Stopping here, at the one place every
    streaming provider feeds its text through, is simpler and cheaper than
    capping on receipt: leaving the read loop closes the response (the SDKs'
    stream context, or the stream generator being dropped, as on a timeout),
    so the server stops generating and billing. The engine still caps any
    answer on receipt (``loopterm.bounds.bound_answer``) for providers that do
    not stream through a meter.
    """

    def __init__(self, on_progress: ProgressCallback | None, max_bytes: int = ANSWER_MAX_BYTES) -> None:
        self._on_progress = on_progress
        self._parts: list[str] = []
        self.max_bytes = max_bytes
        self.size = 0  # UTF-8 bytes kept in ``_parts``
        self.stopped = False  # the answer passed ``max_bytes`` and reading stopped there
        self.chars = 0
        self.counted_tokens = 0  # exact, for providers that stream one token a chunk
        self.start = time.perf_counter()
        self.ttft_s: float | None = None
        self.end: float | None = None
        self.usage: TokenUsage | None = None
        self.timing: dict[str, float] = {}
        # Set once the server answered with a status: a connection error before
        # that is "unreachable", after it the stream was cut.
        self.responded = False

    def restart(self) -> None:
        """Start the clock now (after work that is not part of the request, e.g. loading)."""
        self.start = time.perf_counter()

    def add(self, text: str, *, tokens: int = 0) -> None:
        if not text:
            return
        if self.ttft_s is None:
            self.ttft_s = time.perf_counter() - self.start
        size = utf8_size(text)
        if self.size + size > self.max_bytes:
            kept = head_bytes(text, self.max_bytes - self.size)
            self._parts.append(kept)
            self.size += utf8_size(kept)
            self.chars += len(kept)
            self.stopped = True
            raise AnswerTooLong(f"answer passed {self.max_bytes} bytes")
        self.size += size
        self._parts.append(text)
        self.chars += len(text)
        self.counted_tokens += tokens
        if self._on_progress is not None:
            so_far = self.counted_tokens or estimate_tokens_from_chars(self.chars)
            try:
                self._on_progress(self.chars, so_far)
            except Exception as exc:
                raise CallbackFailed(exc) from exc

    def done(self) -> None:
        self.end = time.perf_counter()

    @property
    def text(self) -> str:
        return "".join(self._parts)

    @property
    def elapsed_s(self) -> float:
        return (self.end if self.end is not None else time.perf_counter()) - self.start


def estimate_tokens_from_chars(chars: int) -> int:
    return max(1, round(chars / 4)) if chars else 0


def estimate_prompt_tokens(messages: list[ChatMessage]) -> int:
    return estimate_tokens("\n".join(m["content"] for m in messages))


def attempt_usage(messages: list[ChatMessage], meter: StreamMeter) -> TokenUsage:
    """One attempt's tokens: the server's count, else an estimate from the prompt and the text."""
    if meter.usage is not None:
        return meter.usage
    return TokenUsage(
        prompt=estimate_prompt_tokens(messages),
        completion=meter.counted_tokens or estimate_tokens(meter.text),
        estimated=True,
    )
