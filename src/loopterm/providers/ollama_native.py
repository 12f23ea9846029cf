"""Ollama's native ``/api/chat`` through the official ollama AsyncClient.

The final NDJSON line carries the token counts and the server's own timings
(load, prompt evaluation, generation), kept in ``Generation.provider_timing``
next to our wall-clock figures. Lane params go into Ollama's ``options``
(temperature, num_ctx, num_predict, ...) except the few that are top-level
request fields (``think``, ``keep_alive``, ``format``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx
import ollama

from loopterm.events import TokenUsage
from loopterm.lanes import LaneError, ollama_url, safe_url
from loopterm.providers.base import ChatMessage, ErrorKind, ProviderError, estimate_tokens
from loopterm.providers.meter import StreamMeter, estimate_prompt_tokens
from loopterm.providers.retry import Backoff, parse_retry_after, transport_failure
from loopterm.providers.streaming import StreamingProvider

if TYPE_CHECKING:
    from loopterm.lanes import Lane

DEFAULT_URL = "http://127.0.0.1:11434"
_TOP_LEVEL = frozenset({"think", "keep_alive", "format"})
_NS = 1e9


def split_params(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(top-level chat() arguments, model options)."""
    top = {k: v for k, v in params.items() if k in _TOP_LEVEL}
    options = dict(params.get("options") or {})
    options |= {k: v for k, v in params.items() if k not in _TOP_LEVEL and k != "options"}
    return top, options


class OllamaProvider(StreamingProvider):
    protocol = "Ollama"

    def __init__(self, lane: Lane, *, backoff: Backoff | None = None) -> None:
        super().__init__(lane, backoff=backoff)
        self._secret: str | None = None
        # ResponseError drops the headers, so a response hook keeps Retry-After.
        self._retry_after: float | None = None

    def host(self) -> str:
        """The server: the lane's base_url, else $OLLAMA_HOST, else 127.0.0.1:11434."""
        try:
            return self.lane.base_url or ollama_url()
        except LaneError as exc:
            raise self.error(ErrorKind.BAD_REQUEST, str(exc)) from None

    def endpoint(self) -> str:
        try:
            return safe_url(self.host()) or DEFAULT_URL
        except ProviderError:  # a bad $OLLAMA_HOST: its own message says so
            return "$OLLAMA_HOST"

    def _new_client(self, key: str | None) -> ollama.AsyncClient:
        # A key only for lanes that name one (e.g. a hosted or proxied Ollama).
        # The SDK adds $OLLAMA_API_KEY on its own to every client, whatever the
        # host; a lane that names no key must not send the user's key to a
        # server it never chose to trust, so a request hook strips it.
        headers = {"authorization": f"Bearer {key}"} if key else None
        request_hooks = [] if key else [_strip_authorization]
        return ollama.AsyncClient(
            host=self.host(),  # the real URL; endpoint() is the shown one
            timeout=self.lane.timeout_s,
            headers=headers,
            event_hooks={"request": request_hooks, "response": [self._on_response]},
        )

    async def _close_client(self, client: ollama.AsyncClient) -> None:
        # ollama's close() has no annotations (it awaits httpx's aclose and returns nothing).
        await client.close()  # type: ignore[no-untyped-call]

    async def _on_response(self, response: httpx.Response) -> None:
        self._retry_after = parse_retry_after(response.headers) if response.status_code >= 400 else None

    async def _stream(self, messages: list[ChatMessage], meter: StreamMeter) -> None:
        self._retry_after = None
        key = self.api_key(required=True)
        self._secret = key
        top, options = split_params(self.lane.params)
        self.host()  # a bad $OLLAMA_HOST fails here, in its own words
        client: ollama.AsyncClient = self.client_for(key)
        meter.restart()  # building the SDK client is harness work, not the model's
        stream = await client.chat(
            model=self.lane.model,
            messages=[{"role": m["role"], "content": m["content"]} for m in messages],
            stream=True,
            options=options or None,
            **top,
        )
        finished = False
        async for part in stream:
            meter.responded = True
            if part.message is not None and part.message.content:
                meter.add(part.message.content)
            if part.done:
                finished = True
                _read_final(part, meter, messages)
        if not finished:
            raise self.stream_cut(meter, dropped=False)

    def _classify(self, exc: Exception, meter: StreamMeter) -> ProviderError:
        if isinstance(exc, ollama.ResponseError):
            status = exc.status_code
            if status == -1:  # an {"error": ...} line inside a 200 stream
                status = 500
            return self.status_error(status, str(exc.error), self._retry_after, self._secret)
        failure = transport_failure(exc)
        if failure == "connect":
            return self.unreachable()
        if failure == "timeout":
            return self.timed_out()
        if failure == "transport":
            return self.connection_lost(meter)
        if isinstance(exc, json.JSONDecodeError | ValueError):
            return self.protocol_error(type(exc).__name__)
        return self.protocol_error(f"unexpected {type(exc).__name__}")


async def _strip_authorization(request: httpx.Request) -> None:
    request.headers.pop("authorization", None)


def _read_final(part: ollama.ChatResponse, meter: StreamMeter, messages: list[ChatMessage]) -> None:
    prompt, completion = part.prompt_eval_count, part.eval_count
    if prompt is not None or completion is not None:
        # Older Ollama releases left prompt_eval_count out when they reused a cached
        # prompt: a missing count is estimated and marked, never a silent 0.
        meter.usage = TokenUsage(
            prompt=estimate_prompt_tokens(messages) if prompt is None else prompt,
            completion=estimate_tokens(meter.text) if completion is None else completion,
            estimated=prompt is None or completion is None,
        )
    for name in ("total_duration", "load_duration", "prompt_eval_duration", "eval_duration"):
        value = getattr(part, name, None)
        if value is not None:
            meter.timing[name.replace("_duration", "_s")] = value / _NS
