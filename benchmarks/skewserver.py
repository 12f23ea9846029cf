"""A fake OpenAI-compatible streaming server that records when it sent each chunk, and the skew report.

Used by ``fidelity.py --skew``. The server answers every Chat Completions
request with a stream of small chunks at a fixed pace (``CHUNK_CHARS``
characters every ``CHUNK_S`` seconds) and writes down, per model and request,
the characters sent so far and the monotonic time each chunk left. The
answer is code that fails the task, so a lane keeps asking until its turn
limit. ``time.monotonic`` is one clock for every process on the machine, so
the engine's recorded race times and these send times differ by a constant
plus each chunk's delivery delay.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

CHUNK_CHARS = 12
CHUNK_S = 0.01
ANSWER = "```python\n" + "".join(f"# line {i}: this answer does not implement the spec\n" for i in range(50)) + "```\n"
STREAM_LANES = 4
SIM_LANES = ("sim:fast-diffusion", "sim:frontier", "sim:mini", "sim:weak-local")
TURNS = 4


@dataclass
class SentLog:
    """Per model, per request (in arrival order): (characters sent so far, monotonic send time) per chunk."""

    requests: dict[str, list[list[tuple[int, float]]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def new_request(self, model: str) -> list[tuple[int, float]]:
        chunks: list[tuple[int, float]] = []
        with self.lock:
            self.requests.setdefault(model, []).append(chunks)
        return chunks


def _sse(model: str, delta: dict[str, object], finish: str | None = None) -> bytes:
    body = {
        "id": "skew",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return f"data: {json.dumps(body)}\n\n".encode()


async def _serve_one(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, log: SentLog) -> None:
    head = await reader.readuntil(b"\r\n\r\n")
    length = next(
        (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0
    )
    model = str(json.loads(await reader.readexactly(length)).get("model", "?"))
    writer.write(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nConnection: close\r\n\r\n"
    )
    writer.write(_sse(model, {"role": "assistant", "content": ""}))
    await writer.drain()
    chunks = log.new_request(model)
    sent = 0
    next_at = time.monotonic()
    for start in range(0, len(ANSWER), CHUNK_CHARS):
        piece = ANSWER[start : start + CHUNK_CHARS]
        next_at += CHUNK_S
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))  # absolute pace: a late chunk is not carried
        writer.write(_sse(model, {"content": piece}))
        await writer.drain()
        sent += len(piece)
        chunks.append((sent, time.monotonic()))
    writer.write(_sse(model, {}, "stop"))
    usage = {
        "id": "skew",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": model,
        "choices": [],
        "usage": {
            "prompt_tokens": 1000,
            "completion_tokens": len(ANSWER) // 4,
            "total_tokens": 1000 + len(ANSWER) // 4,
        },
    }
    writer.write(f"data: {json.dumps(usage)}\n\ndata: [DONE]\n\n".encode())
    await writer.drain()
    writer.close()


class SkewServer:
    """The server on 127.0.0.1, on its own event loop in a thread of this process."""

    def __init__(self) -> None:
        self.log = SentLog()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> SkewServer:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *_: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            try:
                await _serve_one(reader, writer, self.log)
            except (ConnectionError, asyncio.IncompleteReadError):
                writer.close()

        server = self._loop.run_until_complete(asyncio.start_server(handle, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()


def lanes_file(folder: Path, port: int) -> Path:
    path = folder / "lanes.toml"
    path.write_text(
        "".join(
            f'[[lanes]]\nname = "Stream {i}"\nprovider = "openai"\nmodel = "stream-{i}"\n'
            f'base_url = "http://127.0.0.1:{port}/v1"\nmax_retries = 0\n\n'
            for i in range(1, STREAM_LANES + 1)
        )
    )
    return path


def skews(trace_folder: Path, log: SentLog) -> list[float]:
    """Each recorded chunk's stamp minus its send time, less the smallest such difference (seconds)."""
    from loopterm.events import GenerationProgress, RaceStarted
    from loopterm.traces.reader import read_race

    events = read_race(trace_folder).events
    started = next(e for e in events if isinstance(e, RaceStarted))
    model_of = {lane.run_id: lane.model for lane in started.lanes}
    lags: list[float] = []
    for event in events:
        if not isinstance(event, GenerationProgress) or not model_of.get(event.lane, "").startswith("stream-"):
            continue
        requests = log.requests.get(model_of[event.lane], [])
        if event.turn > len(requests):
            continue
        sent = dict(requests[event.turn - 1])  # turn n is the lane's n-th request: no retries
        if event.chars in sent:
            lags.append(event.t - sent[event.chars])
    floor = min(lags)
    return [lag - floor for lag in lags]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure_skew(
    size: str,
    repeat: int,
    fps: int | None,
    plain: Callable[..., object],
    viewer: Callable[..., object],
    newest_trace: Callable[[Path], Path],
) -> int:
    cols, rows = (int(x) for x in size.split("x"))
    lanes = [f"Stream {i}" for i in range(1, STREAM_LANES + 1)] + list(SIM_LANES)
    results: dict[str, list[float]] = {"plain": [], "viewer": []}
    for _ in range(repeat):
        for mode in ("plain", "viewer"):
            with SkewServer() as server, tempfile.TemporaryDirectory() as tmp:
                root = Path(tmp)
                extra = ("--lanes", str(lanes_file(root, server.port)), "--max-turns", str(TURNS), "--thrash-k", "0")
                if mode == "plain":
                    plain(lanes, 1, root / "traces", extra)
                else:
                    viewer(lanes, 1, root / "traces", (cols, rows), fps, extra)
                found = skews(newest_trace(root / "traces"), server.log)
            results[mode].extend(found)
            print(
                f"{mode:>6}: {len(found)} chunks, skew p50 {statistics.median(found) * 1000:.1f} ms, "
                f"p99 {_percentile(found, 0.99) * 1000:.1f} ms, max {max(found) * 1000:.1f} ms"
            )
    print(
        f"\n{STREAM_LANES} streaming lanes ({CHUNK_CHARS} chars every {CHUNK_S * 1000:.0f} ms) beside "
        f"{len(SIM_LANES)} sim lanes, viewer at {size}, {repeat} run(s)"
    )
    for mode, found in results.items():
        print(
            f"  {mode:>6}: chunk skew p50 {statistics.median(found) * 1000:.1f} ms, "
            f"p99 {_percentile(found, 0.99) * 1000:.1f} ms, max {max(found) * 1000:.1f} ms ({len(found)} chunks)"
        )
    return 0
