"""What each SDK really sends, and protocol-specific readings of the reply."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from support.fakes.fixtures import FakeServer, running_fake_server
from support.fakes.models import COMPLETION_TOKENS, PROMPT_TOKENS, REASONING_TOKENS

from loopterm.lanes import PRESETS, Lane
from loopterm.providers import make_provider
from loopterm.providers.base import ChatMessage, ErrorKind
from loopterm.providers.gemini import GeminiProvider, build_config
from loopterm.providers.llamacpp import LlamaCppProvider
from loopterm.providers.meter import estimate_prompt_tokens
from loopterm.providers.ollama_native import OllamaProvider
from loopterm.providers.openai_compat import OpenAIProvider
from loopterm.providers.streaming import StreamingProvider

pytestmark = pytest.mark.anyio

KEY_ENV = "LOOPTERM_TEST_WIRE_KEY"
KEY = "wire-test-key-0123456789"
CONVERSATION: list[ChatMessage] = [
    {"role": "system", "content": "You write Python."},
    {"role": "user", "content": "Write it."},
    {"role": "assistant", "content": "```python\npass\n```"},
    {"role": "user", "content": "3 checks failed."},
]


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeServer]:
    yield from running_fake_server()


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)
    monkeypatch.delenv("OLLAMA_API_KEY", raising=False)  # the ollama SDK would send it on its own


@pytest.fixture
async def closing() -> AsyncIterator[list[StreamingProvider]]:
    made: list[StreamingProvider] = []
    yield made
    for provider in made:
        await provider.aclose()


def tag(name: str) -> str:
    return f"{name}~{uuid.uuid4().hex[:8]}"


def sent(server: FakeServer, model: str) -> dict[str, Any]:
    requests = server.recorder.requests[model]
    assert len(requests) == 1
    return requests[0]


def test_make_provider_picks_the_protocol() -> None:
    assert isinstance(make_provider(PRESETS["mercury-2"]), OpenAIProvider)
    assert isinstance(make_provider(PRESETS["gemini-2.5-flash"]), GeminiProvider)
    assert isinstance(make_provider(PRESETS["local:smollm2"]), LlamaCppProvider)
    ollama_lane = Lane(name="o", provider="ollama", model="m")
    assert isinstance(make_provider(ollama_lane), OllamaProvider)


# -- OpenAI-compatible ----------------------------------------------------------


async def test_openai_sends_usage_request_and_lane_params(
    fake_server: FakeServer, closing: list[StreamingProvider]
) -> None:
    model = tag("reasoning")
    # The Mercury 2 preset, pointed at the fake: its reasoning_effort must reach the server.
    lane = PRESETS["mercury-2"].model_copy(
        update={"model": model, "base_url": f"{fake_server.url}/v1", "api_key_env": KEY_ENV}
    )
    lane.params = {**lane.params, "top_k": 5}  # not a Chat Completions argument: goes in the body
    provider = OpenAIProvider(lane)
    closing.append(provider)
    gen = await provider.generate(CONVERSATION)
    assert gen.error is None
    assert (gen.usage.prompt, gen.usage.completion, gen.usage.reasoning) == (
        PROMPT_TOKENS,
        COMPLETION_TOKENS,
        REASONING_TOKENS,
    )
    assert gen.cost == pytest.approx((PROMPT_TOKENS * 0.25 + COMPLETION_TOKENS * 0.75) / 1e6)
    request = sent(fake_server, model)
    body = request["body"]
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
    assert body["reasoning_effort"] == "instant" and body["top_k"] == 5
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "user"]
    assert request["headers"]["authorization"] == f"Bearer {KEY}"


async def test_openai_keeps_llama_server_timings(fake_server: FakeServer, closing: list[StreamingProvider]) -> None:
    model = tag("server-timings")
    provider = OpenAIProvider(Lane(name="l", provider="openai", model=model, base_url=f"{fake_server.url}/v1"))
    closing.append(provider)
    gen = await provider.generate(CONVERSATION)
    assert gen.error is None
    # llama-server's own prompt and generation durations, beside loopterm's clock.
    assert gen.provider_timing == {"prompt_eval_s": 0.1205, "eval_s": 0.34}


async def test_openai_local_server_needs_no_key(fake_server: FakeServer, closing: list[StreamingProvider]) -> None:
    model = tag("ok")
    provider = OpenAIProvider(Lane(name="local", provider="openai", model=model, base_url=f"{fake_server.url}/v1"))
    closing.append(provider)
    gen = await provider.generate(CONVERSATION)
    assert gen.error is None
    assert sent(fake_server, model)["headers"]["authorization"] == "Bearer not-needed"


# -- Gemini -----------------------------------------------------------------------


async def test_gemini_maps_roles_system_and_thinking(fake_server: FakeServer, closing: list[StreamingProvider]) -> None:
    model = tag("reasoning") + "-flash"  # a Flash model: thinking goes off on its own
    lane = Lane(name="g", provider="gemini", model=model, base_url=fake_server.url, api_key_env=KEY_ENV)
    provider = GeminiProvider(lane)
    closing.append(provider)
    gen = await provider.generate(CONVERSATION)
    assert gen.error is None
    # Thought tokens are billed as output: completion counts them, reasoning says how many.
    assert (gen.usage.completion, gen.usage.reasoning) == (COMPLETION_TOKENS + REASONING_TOKENS, REASONING_TOKENS)
    request = sent(fake_server, model)
    body = request["body"]
    assert body["systemInstruction"]["parts"][0]["text"] == "You write Python."
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    thinking = body["generationConfig"]["thinkingConfig"]
    assert 0 in thinking.values()  # thinking_budget = 0, however the SDK spells the key
    # The key travels in a header, never in the URL (URLs end up in logs).
    assert request["headers"]["x-goog-api-key"] == KEY
    assert KEY not in request["url"] and ":streamGenerateContent?alt=sse" in request["url"]


def test_gemini_thinking_rule() -> None:
    flash = Lane(name="f", provider="gemini", model="gemini-2.5-flash")
    pro = Lane(name="p", provider="gemini", model="gemini-2.5-pro")
    pro_budget = pro.model_copy(update={"params": {"thinking_budget": 128, "temperature": 0.2}})
    assert build_config(flash, None).thinking_config.thinking_budget == 0
    assert build_config(pro, None).thinking_config is None
    config = build_config(pro_budget, "sys")
    assert config.thinking_config.thinking_budget == 128 and config.temperature == 0.2
    assert config.system_instruction == "sys"


async def test_gemini_bad_key_400_is_auth(fake_server: FakeServer, closing: list[StreamingProvider]) -> None:
    lane = Lane(name="g", provider="gemini", model=tag("invalid-key"), base_url=fake_server.url, api_key_env=KEY_ENV)
    provider = GeminiProvider(lane)
    closing.append(provider)
    gen = await provider.generate(CONVERSATION)
    assert gen.error_kind is ErrorKind.AUTH
    assert f"check the key in {KEY_ENV}" in (gen.error or "")


async def test_gemini_unknown_param_fails_before_sending(
    fake_server: FakeServer, closing: list[StreamingProvider]
) -> None:
    model = tag("ok")
    lane = Lane(
        name="g",
        provider="gemini",
        model=model,
        base_url=fake_server.url,
        api_key_env=KEY_ENV,
        params={"reasoning_effort": "instant"},
    )
    provider = GeminiProvider(lane)
    closing.append(provider)
    gen = await provider.generate(CONVERSATION)
    assert gen.error_kind is ErrorKind.BAD_REQUEST
    assert "param 'reasoning_effort'" in (gen.error or "")
    assert fake_server.recorder.hits[model] == 0


# -- Ollama -------------------------------------------------------------------------


async def test_ollama_options_and_server_timings(fake_server: FakeServer, closing: list[StreamingProvider]) -> None:
    model = tag("ok")
    lane = Lane(
        name="o",
        provider="ollama",
        model=model,
        base_url=fake_server.url,
        params={"temperature": 0.1, "num_ctx": 8192, "think": False},
    )
    provider = OllamaProvider(lane)
    closing.append(provider)
    gen = await provider.generate(CONVERSATION)
    assert gen.error is None
    assert gen.provider_timing == {"total_s": 0.9, "load_s": 0.1, "prompt_eval_s": 0.2, "eval_s": 0.5}
    request = sent(fake_server, model)
    assert request["body"]["options"] == {"temperature": 0.1, "num_ctx": 8192}
    assert request["body"]["think"] is False
    assert "authorization" not in request["headers"]


async def test_ollama_without_a_prompt_count_estimates_it_and_says_so(
    fake_server: FakeServer, closing: list[StreamingProvider]
) -> None:
    model = tag("cached-prompt")
    provider = OllamaProvider(Lane(name="o", provider="ollama", model=model, base_url=fake_server.url))
    closing.append(provider)
    gen = await provider.generate(CONVERSATION)
    assert gen.error is None
    assert gen.usage.completion == COMPLETION_TOKENS  # the server's own count is kept
    assert gen.usage.prompt == estimate_prompt_tokens(CONVERSATION) > 0  # not a silent 0
    assert gen.usage.estimated is True


async def test_ollama_sends_a_key_only_when_the_lane_names_one(
    fake_server: FakeServer, closing: list[StreamingProvider]
) -> None:
    model = tag("ok")
    lane = Lane(name="o", provider="ollama", model=model, base_url=fake_server.url, api_key_env=KEY_ENV)
    provider = OllamaProvider(lane)
    closing.append(provider)
    assert (await provider.generate(CONVERSATION)).error is None
    assert sent(fake_server, model)["headers"]["authorization"] == f"Bearer {KEY}"


async def test_ollama_never_sends_the_users_ollama_key_to_a_lane_that_names_none(
    fake_server: FakeServer, closing: list[StreamingProvider], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The ollama SDK reads OLLAMA_API_KEY itself; this lane points at some other host.
    monkeypatch.setenv("OLLAMA_API_KEY", "users-ollama-key-0123456789")
    model = tag("ok")
    provider = OllamaProvider(Lane(name="o", provider="ollama", model=model, base_url=fake_server.url))
    closing.append(provider)
    assert (await provider.generate(CONVERSATION)).error is None
    assert "authorization" not in sent(fake_server, model)["headers"]
    # A lane naming its own variable sends that key, not OLLAMA_API_KEY.
    model = tag("ok")
    lane = Lane(name="o", provider="ollama", model=model, base_url=fake_server.url, api_key_env=KEY_ENV)
    provider = OllamaProvider(lane)
    closing.append(provider)
    assert (await provider.generate(CONVERSATION)).error is None
    assert sent(fake_server, model)["headers"]["authorization"] == f"Bearer {KEY}"
