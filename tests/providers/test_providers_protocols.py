"""Every real provider, through its real SDK, over real HTTP to a fake server.

The same behaviours are asserted for the three wire protocols (OpenAI SSE,
Gemini SSE, Ollama NDJSON): streaming, timing, usage, cost, progress, every
error kind, retries and cancellation. The fake picks its behaviour from the
model name (see tests/support/fakes/models.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
from support.fakes.fixtures import FakeServer, running_fake_server
from support.fakes.models import (
    ANSWER,
    COMPLETION_TOKENS,
    FIRST_TOKEN_DELAY_S,
    MID_STREAM_ERROR,
    PROMPT_TOKENS,
    RETRY_AFTER_S,
)
from support.fakes.server import closed_port_url
from support.loop_ticks import loop_ticks_during

from loopterm.lanes import Lane, Price
from loopterm.providers.base import ChatMessage, ErrorKind, Generation, estimate_tokens
from loopterm.providers.gemini import GeminiProvider
from loopterm.providers.meter import estimate_prompt_tokens
from loopterm.providers.ollama_native import OllamaProvider
from loopterm.providers.openai_compat import OpenAIProvider
from loopterm.providers.retry import Backoff
from loopterm.providers.streaming import StreamingProvider

pytestmark = pytest.mark.anyio

KEY_ENV = "LOOPTERM_TEST_FAKE_KEY"
SECRET = "sk-loopterm-TEST-SECRET-7f3a9c2e51"
FAST = Backoff(base_s=0.01, cap_s=0.02)
MESSAGES: list[ChatMessage] = [
    {"role": "system", "content": "You write Python."},
    {"role": "user", "content": "Write the service."},
]
PROTOCOLS = ["openai", "gemini", "ollama"]
_CLASSES: dict[str, type[StreamingProvider]] = {
    "openai": OpenAIProvider,
    "gemini": GeminiProvider,
    "ollama": OllamaProvider,
}


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeServer]:
    yield from running_fake_server()


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, SECRET)


@pytest.fixture(params=PROTOCOLS)
def protocol(request: pytest.FixtureRequest) -> str:
    return request.param


def base_url(protocol: str, root: str) -> str:
    return f"{root}/v1" if protocol == "openai" else root


def tagged(behaviour: str) -> str:
    """A model name whose hit counter no other test shares."""
    return f"{behaviour}~{uuid.uuid4().hex[:8]}"


Make = Callable[..., StreamingProvider]


@pytest.fixture
async def make(protocol: str) -> AsyncIterator[Make]:
    """Build providers for this protocol; their SDK clients close with the test's loop."""
    made: list[StreamingProvider] = []

    def build(root: str, model: str, **overrides: object) -> StreamingProvider:
        fields: dict[str, object] = {
            "name": f"Fake {protocol}",
            "provider": protocol,
            "model": model,
            "base_url": base_url(protocol, root),
            "api_key_env": KEY_ENV,
            "price": Price(input=1.0, output=2.0),
            "max_retries": 2,
            "timeout_s": 10.0,
        }
        provider = _CLASSES[protocol](Lane.model_validate(fields | overrides), backoff=FAST)
        made.append(provider)
        return provider

    yield build
    for provider in made:
        await provider.aclose()


async def test_streams_text_with_usage_and_cost(protocol: str, make: Make, fake_server: FakeServer) -> None:
    provider = make(fake_server.url, tagged("ok"))
    gen = await provider.generate(MESSAGES)
    assert gen.error is None and gen.error_kind is None
    assert gen.text == ANSWER
    assert (gen.usage.prompt, gen.usage.completion, gen.usage.estimated) == (
        PROMPT_TOKENS,
        COMPLETION_TOKENS,
        False,
    )
    assert gen.cost == pytest.approx((PROMPT_TOKENS * 1.0 + COMPLETION_TOKENS * 2.0) / 1e6)
    assert gen.ttft_s is not None and 0 < gen.ttft_s <= gen.generation_s
    assert gen.retries == []


async def test_progress_grows_to_the_whole_answer(protocol: str, make: Make, fake_server: FakeServer) -> None:
    seen: list[tuple[int, int]] = []
    provider = make(fake_server.url, tagged("ok"))
    gen = await provider.generate(MESSAGES, lambda chars, tokens: seen.append((chars, tokens)))
    chars = [c for c, _ in seen]
    tokens = [t for _, t in seen]
    assert len(seen) >= 5  # one call per streamed piece, not one at the end
    assert chars == sorted(set(chars)) and chars[-1] == len(gen.text)
    assert tokens == sorted(tokens) and tokens[-1] >= 1


async def test_time_to_first_token_is_measured(protocol: str, make: Make, fake_server: FakeServer) -> None:
    gen = await make(fake_server.url, tagged("slow-first-token")).generate(MESSAGES)
    assert gen.error is None
    assert gen.ttft_s is not None and gen.ttft_s >= FIRST_TOKEN_DELAY_S
    assert gen.generation_s >= gen.ttft_s


async def test_usage_is_estimated_and_marked_when_absent(protocol: str, make: Make, fake_server: FakeServer) -> None:
    gen = await make(fake_server.url, tagged("no-usage")).generate(MESSAGES)
    assert gen.error is None and gen.text == ANSWER
    assert gen.usage.estimated is True
    assert gen.usage.completion == estimate_tokens(ANSWER)
    assert gen.usage.prompt > 0
    assert gen.cost == pytest.approx((gen.usage.prompt + 2 * gen.usage.completion) / 1e6)


ERRORS = [
    ("unauthorized", ErrorKind.AUTH, f"check the key in {KEY_ENV}"),
    ("forbidden", ErrorKind.AUTH, "(403)"),
    ("bad-request", ErrorKind.BAD_REQUEST, "(400)"),
    ("no-such-model", ErrorKind.MODEL_NOT_FOUND, "model 'no-such-model"),
    ("garbage", ErrorKind.PROTOCOL, "not a valid"),
    ("rate-limit-long", ErrorKind.RATE_LIMITED, "retry after 3600 s"),
]


@pytest.mark.parametrize(("behaviour", "kind", "hint"), ERRORS)
async def test_each_failure_maps_to_one_kind_without_retrying(
    protocol: str, make: Make, fake_server: FakeServer, behaviour: str, kind: ErrorKind, hint: str
) -> None:
    model = tagged(behaviour)
    gen = await make(fake_server.url, model).generate(MESSAGES)
    assert gen.error_kind is kind
    assert gen.error is not None and gen.error.startswith(f"Fake {protocol}: ")
    assert hint in gen.error and "\n" not in gen.error
    assert gen.retries == []  # not retryable (or a wait longer than we would stall a race)
    assert fake_server.recorder.hits[model] == 1


async def test_missing_key_names_the_variable_and_sends_nothing(
    protocol: str, make: Make, fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_ENV)
    model = tagged("ok")
    gen = await make(fake_server.url, model).generate(MESSAGES)
    assert gen.error_kind is ErrorKind.MISSING_KEY
    assert gen.error == f"Fake {protocol}: no key: set {KEY_ENV}"
    assert fake_server.recorder.hits[model] == 0


async def test_unreachable_server_is_retried_then_named(protocol: str, make: Make) -> None:
    root = closed_port_url()
    gen = await make(root, "ok").generate(MESSAGES)
    assert gen.error_kind is ErrorKind.UNREACHABLE
    assert f"cannot reach {base_url(protocol, root)}: is the server running?" in (gen.error or "")
    assert [r.kind for r in gen.retries] == ["unreachable", "unreachable"]


async def test_timeout_is_the_lanes_timeout(protocol: str, make: Make, fake_server: FakeServer) -> None:
    provider = make(fake_server.url, tagged("hang"), timeout_s=0.3, max_retries=0)
    started = time.perf_counter()
    gen, ticks = await loop_ticks_during(provider.generate(MESSAGES))
    assert gen.error_kind is ErrorKind.TIMEOUT
    assert "within 0.3 s (timeout_s)" in (gen.error or "")
    assert time.perf_counter() - started >= 0.3
    # About 6 ticks of 50 ms: the lane's 0.3 s, not httpx's 5 s default (100) or the hang's 30 s.
    assert ticks < 30, ticks


@pytest.mark.parametrize("behaviour", ["cut-stream", "drop-stream"])
async def test_a_cut_stream_is_retried_and_reported(
    protocol: str, make: Make, fake_server: FakeServer, behaviour: str
) -> None:
    model = tagged(behaviour)
    gen = await make(fake_server.url, model, max_retries=1).generate(MESSAGES)
    assert gen.error_kind is ErrorKind.STREAM_CUT
    # The final message says how it stopped, what to do, and that retrying did not help.
    how = (
        "the server ended it without a finish marker: check the server's logs and base_url"
        if behaviour == "cut-stream"
        else "the connection dropped: check the network or the server's logs"
    )
    ending = f"stopped before it finished (after 12 characters): {how} (gave up after 1 retry)"
    assert (gen.error or "").endswith(ending)
    assert "it is retried" not in (gen.error or "")
    assert gen.text == ANSWER[:12]  # what arrived before the cut is kept, not passed off as whole
    assert [r.kind for r in gen.retries] == ["stream_cut"]
    assert fake_server.recorder.hits[model] == 2


async def test_rate_limit_waits_retry_after_then_succeeds(protocol: str, make: Make, fake_server: FakeServer) -> None:
    model = tagged("rate-limit-once")
    started = time.perf_counter()
    gen = await make(fake_server.url, model).generate(MESSAGES)
    assert gen.error is None and gen.text == ANSWER
    assert len(gen.retries) == 1
    record = gen.retries[0]
    assert record.kind == "rate_limited" and record.wait_s == pytest.approx(RETRY_AFTER_S)
    assert f"retry after {RETRY_AFTER_S:g} s" in record.message
    assert time.perf_counter() - started >= RETRY_AFTER_S
    assert fake_server.recorder.hits[model] == 2


async def test_a_wait_too_long_for_a_race_is_not_retried_and_says_so(
    protocol: str, make: Make, fake_server: FakeServer
) -> None:
    model = tagged("rate-limit-long")  # the server asks for an hour
    gen = await make(fake_server.url, model).generate(MESSAGES)
    assert gen.error_kind is ErrorKind.RATE_LIMITED and gen.retries == []
    assert (gen.error or "").endswith("(not retried: longer than the 60 s a lane waits; try again later)")
    assert fake_server.recorder.hits[model] == 1


async def test_a_retry_after_http_date_is_waited_until(protocol: str, make: Make, fake_server: FakeServer) -> None:
    model = tagged("rate-limit-date-once")  # Retry-After: <an HTTP date 2 s ahead>
    started = time.perf_counter()
    gen = await make(fake_server.url, model).generate(MESSAGES)
    assert gen.error is None and gen.text == ANSWER
    (record,) = gen.retries
    # HTTP dates have whole seconds: the wait is the 2 s less what the clock's second had
    # run, less however long the answer took to arrive (a busy machine can make that long).
    assert record.kind == "rate_limited" and record.wait_s <= 2.1
    assert time.perf_counter() - started >= record.wait_s
    # The retry came no sooner than the date, which is more than 1 s after the first request
    # (an ignored date would retry after the 0.01 s backoff).
    first, second = (request["at"] for request in fake_server.recorder.requests[model])
    assert second - first >= 0.95, second - first


async def test_a_rate_limit_without_a_wait_backs_off_then_says_what_to_do(
    protocol: str, make: Make, fake_server: FakeServer
) -> None:
    model = tagged("rate-limit-always")
    gen = await make(fake_server.url, model, max_retries=1).generate(MESSAGES)
    assert gen.error_kind is ErrorKind.RATE_LIMITED
    assert [(r.kind, r.wait_s) for r in gen.retries] == [("rate_limited", 0.01)]  # our backoff: no server wait
    assert "rate limited (429): slow down: check the account's rate limits or race fewer lanes" in (gen.error or "")
    assert (gen.error or "").endswith("(gave up after 1 retry)")


async def test_retries_are_bounded_and_back_off(protocol: str, make: Make, fake_server: FakeServer) -> None:
    model = tagged("always-500")
    gen = await make(fake_server.url, model, max_retries=2).generate(MESSAGES)
    assert gen.error_kind is ErrorKind.SERVER_ERROR
    assert "server error 500" in (gen.error or "")
    assert (gen.error or "").endswith("try again later or check the server's status or logs (gave up after 2 retries)")
    assert [r.kind for r in gen.retries] == ["server_error", "server_error"]
    assert [r.wait_s for r in gen.retries] == [0.01, 0.02]  # base, doubled, capped
    assert fake_server.recorder.hits[model] == 3


async def test_cancellation_stops_the_stream_promptly(protocol: str, make: Make, fake_server: FakeServer) -> None:
    streaming = asyncio.Event()
    pieces: list[int] = []

    def progress(chars: int, _tokens: int) -> None:
        pieces.append(chars)
        streaming.set()

    model = tagged("slow-stream")  # 400 pieces, one every 50 ms
    provider = make(fake_server.url, model)
    task = asyncio.create_task(provider.generate(MESSAGES, progress))
    await asyncio.wait_for(streaming.wait(), 60)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 60)  # only so that a hang fails
    # Promptly: it stopped reading within a few pieces, far from the stream's 400 (20 s).
    assert len(pieces) < 100, len(pieces)
    # And the request itself stops: the connection is closed, so the server
    # stops generating (and billing) rather than streaming into a dead socket
    # (before the stream's own end, 20 s in, when nothing would count as abandoned).
    assert await asyncio.to_thread(fake_server.recorder.wait_for_abandon, model, 15.0)


async def test_a_failing_progress_callback_is_not_swallowed(protocol: str, make: Make, fake_server: FakeServer) -> None:
    def broken(_chars: int, _tokens: int) -> None:
        raise ZeroDivisionError("the caller's bug")

    with pytest.raises(ZeroDivisionError):
        await make(fake_server.url, tagged("ok")).generate(MESSAGES, broken)


async def test_the_key_is_never_in_results_messages_or_logs(
    protocol: str,
    make: Make,
    fake_server: FakeServer,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    for behaviour in ["ok", "unauthorized", "invalid-key", "always-500", "rate-limit-once", "drop-stream"]:
        model = tagged(behaviour)
        provider = make(fake_server.url, model, max_retries=1)
        gen: Generation = await provider.generate(MESSAGES)
        texts += [gen.model_dump_json(), repr(provider), str(gen.error)]
        texts += [r.message for r in gen.retries]
        # The key really went over the wire, so its absence below means something.
        headers = fake_server.recorder.requests[model][0]["headers"]
        assert SECRET in " ".join(headers.values())
    captured = capsys.readouterr()
    texts += [caplog.text, captured.out, captured.err]
    for text in texts:
        assert SECRET not in text
        assert SECRET[:12] not in text  # nor a recognisable piece of it


def test_the_gemini_sdk_would_pick_aiohttp_here() -> None:
    # google-genai switches to aiohttp whenever it is importable (the dev extra
    # installs it), so the Gemini cases above prove the provider pins httpx:
    # on aiohttp a closed port read as "protocol" and a dropped stream was not retried.
    from google.genai import _api_client

    assert _api_client.has_aiohttp


async def test_an_unreachable_hosted_endpoint_asks_about_the_network(protocol: str, make: Make) -> None:
    # Not "is the server running?": nobody runs api.openai.com themselves.
    gen = await make("http://unreachable.invalid", "ok", max_retries=0).generate(MESSAGES)
    assert gen.error_kind is ErrorKind.UNREACHABLE
    assert (gen.error or "").endswith(": check your network connection and proxy settings")


async def test_tokens_and_cost_of_a_cut_attempt_are_counted(protocol: str, make: Make, fake_server: FakeServer) -> None:
    # The first attempt streamed 12 characters and was cut (the server billed
    # it); the retry got the whole answer with the server's counts.
    gen = await make(fake_server.url, tagged("drop-once")).generate(MESSAGES)
    assert gen.error is None and gen.text == ANSWER
    assert [r.kind for r in gen.retries] == ["stream_cut"]
    lost_prompt, lost_completion = estimate_prompt_tokens(MESSAGES), estimate_tokens(ANSWER[:12])
    assert gen.usage.prompt == PROMPT_TOKENS + lost_prompt
    assert gen.usage.completion == COMPLETION_TOKENS + lost_completion
    assert gen.usage.estimated  # part of it is our estimate
    prompt, completion = PROMPT_TOKENS + lost_prompt, COMPLETION_TOKENS + lost_completion
    assert gen.cost == pytest.approx((prompt * 1.0 + completion * 2.0) / 1e6)


async def test_a_refused_attempt_adds_no_tokens(protocol: str, make: Make, fake_server: FakeServer) -> None:
    gen = await make(fake_server.url, tagged("rate-limit-once")).generate(MESSAGES)
    assert gen.error is None and len(gen.retries) == 1
    assert (gen.usage.prompt, gen.usage.completion, gen.usage.estimated) == (PROMPT_TOKENS, COMPLETION_TOKENS, False)


async def test_a_web_page_instead_of_the_api_is_a_protocol_error_and_not_retried(
    protocol: str, make: Make, fake_server: FakeServer
) -> None:
    # base_url at a proxy's or a web server's front page: 200, text/html. Not a cut stream to retry.
    gen = await make(fake_server.url, tagged("html-page"), max_retries=3).generate(MESSAGES)
    assert gen.error_kind is ErrorKind.PROTOCOL, gen.error
    assert gen.retries == []
    assert "check base_url" in (gen.error or "")


@pytest.mark.parametrize("refusal", ["rate-limit-always", "always-500", "unauthorized"])
async def test_a_request_the_server_refused_counts_no_tokens_and_no_cost(
    protocol: str, make: Make, fake_server: FakeServer, refusal: str
) -> None:
    # Refused before any work: nothing streamed, no count sent. The prompt's estimate is not spent.
    gen = await make(fake_server.url, tagged(refusal), max_retries=0).generate(MESSAGES)
    assert gen.error is not None and gen.text == ""
    assert (gen.usage.prompt, gen.usage.completion, gen.usage.reasoning) == (0, 0, 0)
    assert gen.cost is None


async def test_an_error_event_inside_a_200_stream_is_a_server_error(
    protocol: str, make: Make, fake_server: FakeServer
) -> None:
    if protocol == "gemini":
        pytest.skip("Gemini has no in-stream error event: a failing stream is aborted (covered by drop-stream)")
    # An OpenAI-style SSE `data: {"error": ...}` chunk, Ollama's `{"error": ...}` NDJSON line.
    model = tagged("error-mid-stream")
    gen = await make(fake_server.url, model, max_retries=1).generate(MESSAGES)
    assert gen.error_kind is ErrorKind.SERVER_ERROR
    assert MID_STREAM_ERROR in (gen.error or "") and "\n" not in (gen.error or "")
    assert "try again later or check the server's status or logs" in (gen.error or "")
    assert (gen.error or "").endswith("(gave up after 1 retry)")
    assert [r.kind for r in gen.retries] == ["server_error"]  # retried: the server failed, not the model
    assert fake_server.recorder.hits[model] == 2


async def test_a_5xx_with_retry_after_waits_that_long_then_succeeds(
    protocol: str, make: Make, fake_server: FakeServer
) -> None:
    model = tagged("unavailable-once")
    started = time.perf_counter()
    gen = await make(fake_server.url, model).generate(MESSAGES)
    assert gen.error is None and gen.text == ANSWER
    (record,) = gen.retries
    assert record.kind == "server_error" and "server error 503" in record.message
    assert record.wait_s == pytest.approx(RETRY_AFTER_S)  # the server's wait, not the 0.01 s backoff
    assert time.perf_counter() - started >= RETRY_AFTER_S


async def test_cancellation_before_the_first_token_is_prompt(
    protocol: str, make: Make, fake_server: FakeServer
) -> None:
    # The server holds the answer for 30 s; the request is in flight when we cancel.
    model = tagged("hang")
    pieces: list[int] = []
    task = asyncio.create_task(make(fake_server.url, model).generate(MESSAGES, lambda c, _t: pieces.append(c)))
    assert await asyncio.to_thread(fake_server.recorder.wait_for_hit, model, 60)  # the request reached the server
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 60)  # only so that a hang fails
    assert pieces == []  # it did not wait for the answer, 30 s away
    assert fake_server.recorder.hits[model] == 1  # cancelled, not retried
    # The server saw the client go before its 30 s were up.
    assert await asyncio.to_thread(fake_server.recorder.wait_for_abandon, model, 15.0)
