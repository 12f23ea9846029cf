"""Google Gemini through the official google-genai SDK, async streaming.

Flash models run with thinking off (``thinking_budget=0``) unless the lane
says otherwise, so they answer in their fast mode. ``base_url`` overrides the
endpoint (tests point it at a fake server on 127.0.0.1). The SDK's retries are
off; ``StreamingProvider`` retries and records each one.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import httpx
import pydantic
from google import genai
from google.genai import errors, types

from loopterm.events import TokenUsage
from loopterm.providers.base import ChatMessage, ErrorKind, ProviderError
from loopterm.providers.meter import StreamMeter
from loopterm.providers.retry import Backoff, parse_retry_after, transport_failure
from loopterm.providers.streaming import StreamingProvider

if TYPE_CHECKING:
    from loopterm.lanes import Lane

DEFAULT_URL = "https://generativelanguage.googleapis.com"

# Gemini puts "come back in N s" in the error body (google.rpc.RetryInfo).
_RETRY_DELAY = re.compile(r"^\s*([0-9.]+)s\s*$")


def _body_retry_after(details: Any) -> float | None:
    error = details.get("error", details) if isinstance(details, dict) else None
    if not isinstance(error, dict):
        return None
    for item in error.get("details") or []:
        if isinstance(item, dict) and str(item.get("@type", "")).endswith("RetryInfo"):
            match = _RETRY_DELAY.match(str(item.get("retryDelay", "")))
            if match:
                return float(match.group(1))
    return None


def build_config(lane: Lane, system: str | None) -> types.GenerateContentConfig:
    """The request config from the lane's params; unknown params fail as BAD_REQUEST."""
    params = dict(lane.params)
    budget = params.pop("thinking_budget", None)
    if budget is None and "flash" in lane.model.lower():
        budget = 0
    thinking = types.ThinkingConfig(thinking_budget=budget) if budget is not None else None
    return types.GenerateContentConfig(
        system_instruction=system,
        thinking_config=thinking,
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),
        **params,
    )


def to_contents(messages: list[ChatMessage]) -> tuple[str | None, list[types.Content]]:
    """System messages become the system instruction; assistant turns are role "model"."""
    system = "\n\n".join(m["content"] for m in messages if m["role"] == "system") or None
    contents = [
        types.Content(
            role="model" if m["role"] == "assistant" else "user",
            parts=[types.Part(text=m["content"])],
        )
        for m in messages
        if m["role"] != "system"
    ]
    return system, contents


class GeminiProvider(StreamingProvider):
    protocol = "Gemini"

    def __init__(self, lane: Lane, *, backoff: Backoff | None = None) -> None:
        super().__init__(lane, backoff=backoff)
        self._secret: str | None = None
        self._http: dict[int, httpx.AsyncClient] = {}  # by id() of the genai client built on it

    def endpoint(self) -> str:
        return self.lane.shown_url or DEFAULT_URL

    def _new_client(self, key: str | None) -> genai.Client:
        # Our own httpx client: google-genai switches to aiohttp whenever
        # aiohttp is importable, and on aiohttp it hides its own retries
        # (sleeping 1-10 s) and raises errors we would misread (a closed port
        # as "protocol", a dropped stream not retried). With httpx the errors
        # and retries are the same on every machine.
        http = httpx.AsyncClient(timeout=self.lane.timeout_s)
        client = genai.Client(
            api_key=key,
            vertexai=False,
            http_options=types.HttpOptions(
                base_url=self.lane.base_url,
                timeout=int(self.lane.timeout_s * 1000),  # the SDK counts milliseconds
                httpx_async_client=http,
            ),
        )
        self._http[id(client)] = http
        return client

    async def _close_client(self, client: genai.Client) -> None:
        await client.aio.aclose()
        # The SDK leaves a client it was given open: it is ours to close.
        http = self._http.pop(id(client), None)
        if http is not None:
            await http.aclose()

    async def _stream(self, messages: list[ChatMessage], meter: StreamMeter) -> None:
        key = self.api_key(required=True)
        assert key is not None  # Gemini always needs a key: api_key refuses a lane that names none
        self._secret = key
        system, contents = to_contents(messages)
        try:
            config = build_config(self.lane, system)
        except pydantic.ValidationError as exc:
            field = ".".join(str(p) for p in exc.errors()[0]["loc"])
            raise self.error(
                ErrorKind.BAD_REQUEST, f"param '{field}' is not a Gemini generation setting: fix params"
            ) from None
        client: genai.Client = self.client_for(key)
        meter.restart()  # building the SDK client is harness work, not the model's
        stream = await client.aio.models.generate_content_stream(
            model=self.lane.model, contents=contents, config=config
        )
        finished = False
        async for chunk in stream:
            if chunk.usage_metadata is not None and chunk.usage_metadata.prompt_token_count:
                meter.usage = _usage(chunk.usage_metadata)
            for candidate in chunk.candidates or []:
                if candidate.index not in (None, 0):
                    continue
                parts = candidate.content.parts if candidate.content else None
                for part in parts or []:
                    if part.text and not part.thought:
                        meter.add(part.text)
                if candidate.finish_reason is not None:
                    finished = True
        if not finished:
            raise self.stream_cut(meter, dropped=False)

    def _classify(self, exc: Exception, meter: StreamMeter) -> ProviderError:
        if isinstance(exc, errors.APIError):
            code = int(exc.code or 0)
            message = exc.message or exc.status or ""
            headers = getattr(exc.response, "headers", None)
            retry_after = parse_retry_after(headers) or _body_retry_after(exc.details)
            # Gemini answers a bad key with 400 INVALID_ARGUMENT "API key not valid".
            if code == 400 and "api key" in message.lower():
                code = 401
            return self.status_error(code, message, retry_after, self._secret)
        failure = transport_failure(exc)
        if failure == "connect":
            return self.unreachable()
        if failure == "timeout":
            return self.timed_out()
        if failure == "transport":
            # The SDK sends the request on first iteration, so "responded" is
            # unknowable here: connected-then-lost is a cut stream.
            return self.stream_cut(meter, dropped=True)
        return self.protocol_error(type(exc).__name__)


def _usage(meta: types.GenerateContentResponseUsageMetadata) -> TokenUsage:
    # Thoughts are billed as output, so completion counts them; reasoning says how many.
    thoughts = meta.thoughts_token_count or 0
    return TokenUsage(
        prompt=meta.prompt_token_count or 0,
        completion=(meta.candidates_token_count or 0) + thoughts,
        reasoning=thoughts,
    )
