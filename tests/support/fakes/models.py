"""One fake app speaking three wire protocols; the model name picks the behaviour.

The model name is ``behaviour`` or ``behaviour~tag``: the tag only keeps each
test's hit counter apart (``rate-limit-once~a`` and ``rate-limit-once~b``
each fail once). ``~`` because the name travels in a URL path for Gemini. Behaviours:

``ok``                 the answer in small pieces, with usage
``no-usage``           the answer, no token counts
``cached-prompt``      the answer; Ollama leaves out prompt_eval_count (as it did for a cached prompt)
``reasoning``          the answer, usage with reasoning/thought tokens
``server-timings``     the answer; the OpenAI route adds llama.cpp server's ``timings`` to its last chunk
``slow-first-token``   waits ``FIRST_TOKEN_DELAY_S`` before the first piece
``slow-stream``        one piece every 50 ms for 20 s (for cancellation)
``hang``               headers, then nothing for 30 s (for timeouts)
``cut-stream``         two pieces, then a clean end with no finish marker
``drop-stream``        two pieces, then the connection is aborted
``garbage``            a stream line that is not JSON
``error-mid-stream``   two pieces, then the protocol's in-stream error event (status 200)
``drop-once``          ``drop-stream`` on the first hit, then ``ok``
``rate-limit-once``    429 with a 0.3 s retry-after on the first hit, then ``ok``
``rate-limit-long``    429 asking for an hour
``rate-limit-always``  429 every time, with no retry-after
``rate-limit-date-once`` 429 with retry-after as an HTTP date 2 s ahead on the first hit, then ``ok``
``unavailable-once``   503 with a 0.3 s retry-after on the first hit, then ``ok``
``always-500``         500 every time
``unauthorized``       401; ``forbidden`` 403; ``bad-request`` 400
``invalid-key``        400 "API key not valid" (Gemini's answer to a bad key)
``reference``          the task's reference solution in a fenced block (a lane that passes)
anything else          404 model not found

Every request is recorded (body and headers) under its model name so tests
can check what the SDK really sent.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import threading
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse

ANSWER = "Hello from the fake server.\n```python\nprint('hi')\n```\n"
PIECES = [ANSWER[i : i + 6] for i in range(0, len(ANSWER), 6)]
FIRST_TOKEN_DELAY_S = 0.25
RETRY_AFTER_S = 0.3
PROMPT_TOKENS = 42
COMPLETION_TOKENS = 17
REASONING_TOKENS = 5
SERVER_TIMINGS = {
    "prompt_n": 42,
    "prompt_ms": 120.5,
    "predicted_n": 17,
    "predicted_ms": 340.0,
    "predicted_per_second": 50.0,
}

Ending = Literal["finish", "cut", "drop", "garbage", "error"]
HTML_PAGE = "<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>"
MID_STREAM_ERROR = "the model is overloaded, try again"
THOUGHT = "Let me think about this."  # reasoning the model shows before its answer


@dataclass
class Script:
    """What the fake does with one request, whatever the protocol."""

    status: int = 200
    retry_after_s: float | None = None
    retry_after_date: bool = False  # send retry-after as an HTTP date, not seconds
    pieces: list[str] = field(default_factory=lambda: list(PIECES))
    first_delay_s: float = 0.0
    piece_delay_s: float = 0.0
    ending: Ending = "finish"
    usage: bool = True
    prompt_count: bool = True  # Ollama: send prompt_eval_count with the other counts
    reasoning: bool = False
    timings: bool = False  # llama.cpp server's own durations in the last OpenAI chunk
    message: str = ""  # the error message, for error statuses
    html: bool = False  # a 200 with a web page instead of the API's answer (base_url at a proxy's front page)


ERROR_STATUS = {"unauthorized": 401, "forbidden": 403, "bad-request": 400, "always-500": 500}


def script_for(model: str, hit: int) -> Script | None:
    """The script for the ``hit``-th request (1-based) to ``model``; None means 404."""
    behaviour = model.split("~", 1)[0]
    if behaviour == "ok":
        return Script()
    if behaviour == "no-usage":
        return Script(usage=False)
    if behaviour == "cached-prompt":
        return Script(prompt_count=False)
    if behaviour == "reasoning":
        return Script(reasoning=True)
    if behaviour == "server-timings":
        return Script(timings=True)
    if behaviour == "slow-first-token":
        return Script(first_delay_s=FIRST_TOKEN_DELAY_S)
    if behaviour == "slow-stream":
        return Script(pieces=["tick "] * 400, piece_delay_s=0.05)
    if behaviour == "hang":
        return Script(first_delay_s=30.0)
    if behaviour == "cut-stream":
        return Script(pieces=PIECES[:2], ending="cut")
    if behaviour == "drop-stream":
        return Script(pieces=PIECES[:2], ending="drop")
    if behaviour == "garbage":
        return Script(pieces=PIECES[:1], ending="garbage")
    if behaviour == "drop-once":
        return Script(pieces=PIECES[:2], ending="drop") if hit == 1 else Script()
    if behaviour == "error-mid-stream":
        return Script(pieces=PIECES[:2], ending="error")
    if behaviour == "unavailable-once":
        return Script(status=503, retry_after_s=RETRY_AFTER_S) if hit == 1 else Script()
    if behaviour == "rate-limit-once":
        return Script(status=429, retry_after_s=RETRY_AFTER_S) if hit == 1 else Script()
    if behaviour == "rate-limit-long":
        return Script(status=429, retry_after_s=3600)
    if behaviour == "rate-limit-date-once":
        return Script(status=429, retry_after_s=2.0, retry_after_date=True) if hit == 1 else Script()
    if behaviour == "rate-limit-always":
        return Script(status=429)
    if behaviour == "html-page":
        return Script(html=True)
    if behaviour == "reference":
        answer = f"Here is the file.\n```python\n{_reference_source()}```\n"
        return Script(pieces=[answer[i : i + 400] for i in range(0, len(answer), 400)])
    if behaviour == "invalid-key":  # how Gemini answers a bad key: 400, not 401
        return Script(status=400, message="API key not valid. Please pass a valid API key.")
    if behaviour in ERROR_STATUS:
        return Script(status=ERROR_STATUS[behaviour])
    return None


def _reference_source() -> str:
    from loopterm.tasks import find_task

    return find_task("quote-approval").reference_source


class Dropped(Exception):
    """Raised inside a streaming body so uvicorn aborts the connection mid-stream."""


class Recorder:
    def __init__(self) -> None:
        self._arrived = threading.Condition()
        self.hits: Counter[str] = Counter()
        self.abandons: Counter[str] = Counter()  # streams the client closed before their end
        self.requests: dict[str, list[dict[str, Any]]] = defaultdict(list)

    def record(self, model: str, body: Any, request: Request) -> int:
        with self._arrived:
            self.hits[model] += 1
            self.requests[model].append(
                {"body": body, "headers": dict(request.headers), "url": str(request.url), "at": time.time()}
            )  # the wall clock, as HTTP dates are
            self._arrived.notify_all()
            return self.hits[model]

    def abandoned(self, model: str) -> None:
        """The client went away while ``model``'s stream was still playing."""
        with self._arrived:
            self.abandons[model] += 1
            self._arrived.notify_all()

    def wait_for_abandon(self, model: str, timeout_s: float = 5.0) -> bool:
        """Block until the client closed ``model``'s stream (run it in a thread from async tests)."""
        with self._arrived:
            return self._arrived.wait_for(lambda: self.abandons[model] > 0, timeout_s)

    def wait_for_hit(self, model: str, timeout_s: float = 5.0) -> bool:
        """Block until a request for ``model`` arrived (run it in a thread from async tests)."""
        with self._arrived:
            return self._arrived.wait_for(lambda: self.hits[model] > 0, timeout_s)


async def _play(
    script: Script,
    piece: Callable[[str], bytes],
    final: Callable[[], bytes],
    garbage: bytes,
    error: bytes = b"",
    preamble: bytes = b"",
    on_abandon: Callable[[], None] | None = None,
) -> AsyncIterator[bytes]:
    try:
        async for data in _script_bytes(script, piece, final, garbage, error, preamble):
            yield data
    except (asyncio.CancelledError, GeneratorExit):
        # The client closed the connection mid-stream: a real server stops
        # generating (and billing) only when this happens.
        if on_abandon is not None:
            on_abandon()
        raise


async def _script_bytes(
    script: Script,
    piece: Callable[[str], bytes],
    final: Callable[[], bytes],
    garbage: bytes,
    error: bytes,
    preamble: bytes,
) -> AsyncIterator[bytes]:
    # What real servers send at once, before any answer text (OpenAI's
    # role-only chunk, a Gemini thought, an Ollama thinking line): it is not
    # the first token, so time to first token must not stop at it.
    if preamble:
        yield preamble
    if script.first_delay_s:
        await asyncio.sleep(script.first_delay_s)  # the point: the model's latency, as scripted
    for i, text in enumerate(script.pieces):
        if i and script.piece_delay_s:
            await asyncio.sleep(script.piece_delay_s)  # the point: its pace, as scripted
        yield piece(text)
    if script.ending == "finish":
        yield final()
    elif script.ending == "drop":
        raise Dropped("connection aborted on purpose")
    elif script.ending == "garbage":
        yield garbage
    elif script.ending == "error":
        yield error


def _retry_headers(script: Script) -> dict[str, str]:
    if script.retry_after_s is None:
        return {}
    if script.retry_after_date:
        return {"retry-after": email.utils.formatdate(time.time() + script.retry_after_s, usegmt=True)}
    return {"retry-after": f"{script.retry_after_s:g}"}


# -- OpenAI Chat Completions (SSE) -------------------------------------------


def _openai_routes(app: FastAPI, rec: Recorder) -> None:
    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> Response:
        body = await request.json()
        model = body.get("model", "")
        script = script_for(model, rec.record(model, body, request))
        if script is None:
            return JSONResponse(
                {
                    "error": {
                        "message": f"The model `{model}` does not exist",
                        "type": "invalid_request_error",
                        "code": "model_not_found",
                    }
                },
                status_code=404,
            )
        if script.html:
            return HTMLResponse(HTML_PAGE)
        if script.status != 200:
            message = {401: "Incorrect API key provided: sk-fa***ey", 429: "Rate limit reached"}.get(
                script.status, f"fake error {script.status}"
            )
            return JSONResponse(
                {"error": {"message": message, "type": "fake", "code": None}},
                status_code=script.status,
                headers=_retry_headers(script),
            )
        created = int(time.time())
        base = {"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": created, "model": model}
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

        def piece(text: str) -> bytes:
            chunk = {**base, "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
            return f"data: {json.dumps(chunk)}\n\n".encode()

        def final() -> bytes:
            stop: dict[str, Any] = {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
            if script.timings:  # as llama.cpp's llama-server sends them
                stop["timings"] = dict(SERVER_TIMINGS)
            out = f"data: {json.dumps(stop)}\n\n"
            if script.usage and include_usage:
                usage: dict[str, Any] = {
                    "prompt_tokens": PROMPT_TOKENS,
                    "completion_tokens": COMPLETION_TOKENS,
                    "total_tokens": PROMPT_TOKENS + COMPLETION_TOKENS,
                }
                if script.reasoning:
                    usage["completion_tokens_details"] = {"reasoning_tokens": REASONING_TOKENS}
                out += f"data: {json.dumps({**base, 'choices': [], 'usage': usage})}\n\n"
            return (out + "data: [DONE]\n\n").encode()

        role = {**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
        return StreamingResponse(
            _play(
                script,
                piece,
                final,
                b"data: {not json\n\n",
                _openai_error_event(),
                preamble=f"data: {json.dumps(role)}\n\n".encode(),
                on_abandon=lambda: rec.abandoned(model),
            ),
            media_type="text/event-stream",
        )


def _openai_error_event() -> bytes:
    # What OpenAI-compatible servers send when they fail after the 200 (e.g. vLLM, OpenRouter).
    error = {"error": {"message": MID_STREAM_ERROR, "type": "server_error", "code": None}}
    return f"data: {json.dumps(error)}\n\n".encode()


# -- Gemini streamGenerateContent (SSE) ---------------------------------------

_GOOGLE_STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


def _google_error(
    status: int, message: str, retry_after_s: float | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    error: dict[str, Any] = {"code": status, "message": message, "status": _GOOGLE_STATUS.get(status, "UNKNOWN")}
    if retry_after_s is not None and not headers:
        # Gemini says when to come back in the body (google.rpc.RetryInfo), not a header.
        error["details"] = [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": f"{retry_after_s:g}s"}]
    return JSONResponse({"error": error}, status_code=status, headers=headers)


def _gemini_routes(app: FastAPI, rec: Recorder) -> None:
    # google-genai 1.x calls /v1beta, newer releases /v1: serve both.
    @app.post("/{version}/models/{target}")
    async def stream_generate(version: str, target: str, request: Request) -> Response:
        model, _, method = target.partition(":")
        body = await request.json()
        hit = rec.record(model, body, request)
        if method != "streamGenerateContent" or request.query_params.get("alt") != "sse":
            return _google_error(400, f"fake supports only :streamGenerateContent?alt=sse, not {method}")
        script = script_for(model, hit)
        if script is None:
            return _google_error(404, f"models/{model} is not found for API version v1beta")
        if script.html:
            return HTMLResponse(HTML_PAGE)
        if script.status != 200:
            message = script.message or f"fake error {script.status}"
            # A date goes in the header (a proxy in front of Gemini); seconds in Gemini's own RetryInfo.
            headers = _retry_headers(script) if script.retry_after_date else None
            return _google_error(script.status, message, script.retry_after_s, headers)

        def chunk(parts: list[dict[str, Any]], finish: str | None = None, usage: bool = False) -> bytes:
            candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
            if finish:
                candidate["finishReason"] = finish
            data: dict[str, Any] = {"candidates": [candidate], "modelVersion": model}
            if usage:
                meta = {
                    "promptTokenCount": PROMPT_TOKENS,
                    "candidatesTokenCount": COMPLETION_TOKENS,
                    "totalTokenCount": PROMPT_TOKENS + COMPLETION_TOKENS,
                }
                if script.reasoning:
                    meta["thoughtsTokenCount"] = REASONING_TOKENS
                    meta["totalTokenCount"] += REASONING_TOKENS
                data["usageMetadata"] = meta
            return f"data: {json.dumps(data)}\r\n\r\n".encode()

        def piece(text: str) -> bytes:
            return chunk([{"text": text}])

        def final() -> bytes:
            return chunk([{"text": ""}], finish="STOP", usage=script.usage)

        return StreamingResponse(
            _play(
                script,
                piece,
                final,
                b"data: {not json\r\n\r\n",
                preamble=chunk([{"text": THOUGHT, "thought": True}]),
                on_abandon=lambda: rec.abandoned(model),
            ),
            media_type="text/event-stream",
        )


# -- Ollama /api/chat (NDJSON) -------------------------------------------------


def _ollama_routes(app: FastAPI, rec: Recorder) -> None:
    @app.get("/")
    async def root() -> Response:
        return Response("Ollama is running", media_type="text/plain")

    @app.post("/api/chat")
    async def chat(request: Request) -> Response:
        body = await request.json()
        model = body.get("model", "")
        script = script_for(model, rec.record(model, body, request))
        if script is None:
            return JSONResponse({"error": f"model '{model}' not found"}, status_code=404)
        if script.html:
            return HTMLResponse(HTML_PAGE)
        if script.status != 200:
            return JSONResponse(
                {"error": f"fake error {script.status}"},
                status_code=script.status,
                headers=_retry_headers(script),
            )

        def line(content: str, **extra: Any) -> bytes:
            data = {
                "model": model,
                "created_at": "2025-01-01T00:00:00Z",
                "message": {"role": "assistant", "content": content},
                **extra,
            }
            return (json.dumps(data) + "\n").encode()

        def piece(text: str) -> bytes:
            return line(text, done=False)

        def final() -> bytes:
            extra: dict[str, Any] = {
                "done": True,
                "done_reason": "stop",
                "total_duration": 900_000_000,
                "load_duration": 100_000_000,
                "prompt_eval_duration": 200_000_000,
                "eval_duration": 500_000_000,
            }
            if script.usage:
                extra |= {"prompt_eval_count": PROMPT_TOKENS, "eval_count": COMPLETION_TOKENS}
                if not script.prompt_count:
                    del extra["prompt_eval_count"]
            return line("", **extra)

        thinking = {
            "model": model,
            "created_at": "2025-01-01T00:00:00Z",
            "done": False,
            "message": {"role": "assistant", "content": "", "thinking": THOUGHT},
        }
        return StreamingResponse(
            _play(
                script,
                piece,
                final,
                b"{not json\n",
                (json.dumps({"error": MID_STREAM_ERROR}) + "\n").encode(),
                preamble=(json.dumps(thinking) + "\n").encode(),
                on_abandon=lambda: rec.abandoned(model),
            ),
            media_type="application/x-ndjson",
        )


def make_app() -> tuple[FastAPI, Recorder]:
    app = FastAPI()
    rec = Recorder()
    _openai_routes(app, rec)
    _gemini_routes(app, rec)
    _ollama_routes(app, rec)
    return app, rec
