"""OpenAI Chat Completions streaming, for every server that speaks it.

OpenAI itself, Inception (Mercury 2), Ollama's ``/v1``, vLLM, LM Studio,
llama.cpp's server, OpenRouter: only ``base_url`` and the key differ. The SDK's
own retries are off (``max_retries=0``): ``StreamingProvider`` retries, so
every retry and its wait is recorded.
"""

from __future__ import annotations

import inspect
import json
from typing import TYPE_CHECKING, Any

import openai
from openai import AsyncOpenAI
from openai.types import CompletionUsage
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam

from loopterm.events import TokenUsage
from loopterm.providers.base import ChatMessage, ErrorKind, ProviderError
from loopterm.providers.meter import StreamMeter
from loopterm.providers.retry import Backoff, parse_retry_after, transport_failure
from loopterm.providers.streaming import DUMMY_KEY, StreamingProvider, scrub

if TYPE_CHECKING:
    from loopterm.lanes import Lane

DEFAULT_URL = "https://api.openai.com/v1"

# Arguments ``create`` names itself; any other lane param goes in the JSON body
# through ``extra_body`` (server-specific knobs such as vLLM's ``top_k``).
_CREATE_ARGS = frozenset(inspect.signature(openai.resources.chat.completions.AsyncCompletions.create).parameters) - {
    "self",
    "model",
    "messages",
    "stream",
    "stream_options",
    "extra_body",
}


def split_params(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(keyword arguments the SDK knows, the rest for ``extra_body``)."""
    known = {k: v for k, v in params.items() if k in _CREATE_ARGS}
    extra = {k: v for k, v in params.items() if k not in _CREATE_ARGS}
    return known, extra


def _detail(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        inner = body.get("error", body)
        for source in (inner, body):
            message = source.get("message") if isinstance(source, dict) else None
            if isinstance(message, str):
                return message
    return exc.message


class OpenAIProvider(StreamingProvider):
    protocol = "OpenAI-compatible"

    def __init__(self, lane: Lane, *, backoff: Backoff | None = None) -> None:
        super().__init__(lane, backoff=backoff)
        self._secret: str | None = None

    def endpoint(self) -> str:
        return self.lane.shown_url or DEFAULT_URL

    def _new_client(self, key: str | None) -> AsyncOpenAI:
        return AsyncOpenAI(
            api_key=key or DUMMY_KEY,
            base_url=self.lane.base_url,
            max_retries=0,
            timeout=self.lane.timeout_s,
        )

    async def _close_client(self, client: AsyncOpenAI) -> None:
        await client.close()

    async def _stream(self, messages: list[ChatMessage], meter: StreamMeter) -> None:
        # api.openai.com with no key variable is refused here: a dummy key would only get a 401.
        key = self.api_key(required=True) or DUMMY_KEY
        self._secret = key
        client: AsyncOpenAI = self.client_for(key)
        meter.restart()  # building the SDK client is harness work, not the model's
        known, extra = split_params(self.lane.params)
        stream = await client.chat.completions.create(
            model=self.lane.model,
            messages=[_wire_message(m) for m in messages],
            stream=True,
            stream_options={"include_usage": True},
            extra_body=extra or None,
            **known,
        )
        meter.responded = True
        finished = False
        async with stream:
            async for chunk in stream:
                if chunk.usage is not None:
                    meter.usage = _usage(chunk.usage)
                _read_timings(chunk, meter)
                for choice in chunk.choices:
                    if choice.index != 0:
                        continue
                    if choice.delta is not None and choice.delta.content:
                        meter.add(choice.delta.content)
                    if choice.finish_reason:
                        finished = True
        # The SDK ends quietly when the body ends, [DONE] or not; a stream that
        # never said why it stopped was cut. Unless it was never a stream: a web
        # page (base_url at a proxy's front page) reads as no events at all.
        if not finished:
            kind = stream.response.headers.get("content-type", "")
            if not meter.chars and "text/event-stream" not in kind:
                raise self.protocol_error(f"a 200 answer of type {kind or 'unknown'} instead of an event stream")
            raise self.stream_cut(meter, dropped=False)

    def _classify(self, exc: Exception, meter: StreamMeter) -> ProviderError:
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            retry_after = parse_retry_after(exc.response.headers)
            return self.status_error(status, _detail(exc), retry_after, self._secret)
        if isinstance(exc, openai.APITimeoutError):
            return self.timed_out()
        if isinstance(exc, openai.APIConnectionError):
            if transport_failure(exc.__cause__ or exc) == "connect":
                return self.unreachable()
            return self.connection_lost(meter)
        if isinstance(exc, openai.APIError):
            # An error event inside the stream (e.g. the server overloaded mid-answer).
            return self.error(
                ErrorKind.SERVER_ERROR,
                f"{self.endpoint()} reported an error mid-stream: {scrub(exc.message, self._secret)}: "
                "the server failed, not the model; try again later or check the server's status or logs",
            )
        if isinstance(exc, json.JSONDecodeError | ValueError | TypeError | KeyError):
            return self.protocol_error(type(exc).__name__)
        return self.protocol_error(f"unexpected {type(exc).__name__}")


def _wire_message(message: ChatMessage) -> ChatCompletionMessageParam:
    """One message as the SDK types it: a TypedDict per role, so each role is spelled out."""
    if message["role"] == "system":
        return {"role": "system", "content": message["content"]}
    if message["role"] == "user":
        return {"role": "user", "content": message["content"]}
    return {"role": "assistant", "content": message["content"]}


def _read_timings(chunk: ChatCompletionChunk, meter: StreamMeter) -> None:
    """llama.cpp's server puts its own durations in the last chunk (``timings``,
    in milliseconds): kept beside our clock, named as Ollama's are."""
    timings = (chunk.model_extra or {}).get("timings")
    if not isinstance(timings, dict):
        return
    for source, name in (("prompt_ms", "prompt_eval_s"), ("predicted_ms", "eval_s")):
        value = timings.get(source)
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            meter.timing[name] = value / 1000


def _usage(usage: CompletionUsage) -> TokenUsage:
    details = getattr(usage, "completion_tokens_details", None)
    reasoning = getattr(details, "reasoning_tokens", None) or 0
    return TokenUsage(
        prompt=usage.prompt_tokens or 0,
        completion=usage.completion_tokens or 0,
        reasoning=reasoning,
    )
