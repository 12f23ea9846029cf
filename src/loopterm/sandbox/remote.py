"""The check runner's handle on one candidate process: requests out, answers in, all bounded.

Everything read here was written by the candidate, so it is read with caps
(``frames.py``), checked for shape, and any breach ends the candidate with a
one-line reason (:class:`CandidateGone`) that fails only its own validation.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from typing import Any

from loopterm.sandbox.direct import Answer, Exchange
from loopterm.sandbox.frames import MAX_BODY, MAX_HEADER, FrameError, encode, plain_text, read_frame, size_text

OUTPUT_READ = 1024 * 1024
MAX_DRAIN = 64 * 1024 * 1024  # raw output read and dropped past the kept part, at most
WHERE_CHARS = 120
LOAD_ERROR_CHARS = 2000
MAX_HEADERS = 200  # response headers in one answer
KNOWN_LAYERS = frozenset(
    {"quota", "no-capabilities", "rlimits", "landlock-fs", "landlock-tcp", "landlock-scope", "seccomp", "audit-hook"}
)


class CandidateGone(Exception):
    """The candidate process ended or broke the protocol; ``str()`` says which, in one line."""


class LoadFailed(Exception):
    """The candidate reported that its file did not load; ``str()`` is its reason."""


def _header_pairs(raw: Any) -> list[tuple[bytes, bytes]]:
    if not isinstance(raw, list) or len(raw) > MAX_HEADERS:
        raise FrameError(f"sent answer headers that are not a list of at most {MAX_HEADERS} pairs")
    pairs = []
    for pair in raw:
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)):
            raise FrameError("sent an answer header that is not a [name, value] pair of strings")
        try:
            pairs.append((pair[0].encode("latin-1"), pair[1].encode("latin-1")))
        except UnicodeEncodeError:
            raise FrameError("sent an answer header that is not latin-1 text") from None
    return pairs


def decoded(headers: list[tuple[bytes, bytes]], body: bytes) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """The answer with its Content-Encoding undone here, within MAX_BODY, and the header dropped.

    httpx would otherwise inflate a gzip body in the check runner without a
    bound: 658 bytes of nested gzip decode to 300 MiB, in the process every
    lane shares. gzip and deflate are decoded here with a cap (a body that
    inflates past it fails the check that asked, with the reason); any other
    coding is left as sent, so the checks see bytes they cannot read.
    """
    codings = [
        c.strip().lower()
        for k, v in headers
        if k.lower() == b"content-encoding"
        for c in v.decode("latin-1").split(",")
    ]
    if not codings:
        return headers, body
    for coding in reversed(codings):
        if coding in ("gzip", "x-gzip", "deflate"):
            body = _inflate(body, coding)
    return [(k, v) for k, v in headers if k.lower() != b"content-encoding"], body


def _inflate(body: bytes, coding: str) -> bytes:
    import zlib

    # gzip: a gzip header; deflate: a zlib stream, or a raw one as some servers send.
    tries = (zlib.MAX_WBITS | 16,) if coding != "deflate" else (zlib.MAX_WBITS, -zlib.MAX_WBITS)
    for wbits in tries:
        inflater = zlib.decompressobj(wbits)
        try:
            out = inflater.decompress(body, MAX_BODY + 1)
        except zlib.error:
            continue
        if len(out) > MAX_BODY or inflater.unconsumed_tail:
            raise FrameError(f"sent a {coding} body that inflates past {size_text(MAX_BODY)}")
        return out
    raise FrameError(f"sent a body that is not valid {coding}")


class Candidate:
    """One running candidate: its request socket, its output pipe and its hang-report pipe."""

    def __init__(self, sock: socket.socket, output_fd: int, where_fd: int, output_cap: int) -> None:
        self.sock = sock
        self.output_fd = output_fd
        self.where_fd = where_fd
        self.output_cap = output_cap
        self.output = bytearray()
        self.dropped = 0
        self.output_closed = asyncio.Event()
        self.where = ""
        self.layers: list[str] = []
        self.gone: str | None = None
        self.started = asyncio.Event()
        self._loads: dict[int, asyncio.Future[None]] = {}
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._next = 0
        self._abandoned: set[int] = set()
        self._outbox: list[bytes] = []
        self._drained = 0
        self._reader_task: asyncio.Task[None] | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def open(self, source: bytes) -> None:
        loop = asyncio.get_running_loop()
        for fd in (self.output_fd, self.where_fd):
            os.set_blocking(fd, False)
        loop.add_reader(self.output_fd, self._read_output)
        loop.add_reader(self.where_fd, self._read_where)
        reader, self._writer = await asyncio.open_unix_connection(sock=self.sock, limit=MAX_HEADER)
        self._loads[0] = loop.create_future()
        self._reader_task = asyncio.create_task(self._read_loop(reader))
        await self._send({"op": "source"}, source)

    # -- what the candidate writes -----------------------------------------------
    def _read_output(self) -> None:
        try:
            chunk = os.read(self.output_fd, OUTPUT_READ)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            asyncio.get_running_loop().remove_reader(self.output_fd)
            self.output_closed.set()
            return
        self._drained += len(chunk)
        if self._drained > MAX_DRAIN:  # stop paying to read it: its writes now block it alone
            asyncio.get_running_loop().remove_reader(self.output_fd)
            self.output_closed.set()
        room = self.output_cap - len(self.output)
        if room > 0:
            self.output += chunk[:room]
        self.dropped += max(0, len(chunk) - max(room, 0))

    def drain_now(self) -> None:
        """Read what is already in the output pipe (the writer may still hold it open)."""
        while not self.output_closed.is_set():
            before = self._drained
            self._read_output()
            if self._drained == before:
                return

    def _read_where(self) -> None:
        try:
            chunk = os.read(self.where_fd, 256)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            asyncio.get_running_loop().remove_reader(self.where_fd)
            return
        if not self.where:
            self.where = chunk.decode("utf-8", "replace").splitlines()[0][:WHERE_CHARS] if chunk.strip() else ""

    async def _read_loop(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                frame = await read_frame(reader, MAX_HEADER, MAX_BODY)
                if frame is None:
                    self.fail("the candidate process ended")
                    return
                self._dispatch(*frame)
        except FrameError as exc:
            self.fail(f"the candidate broke the check protocol: it {exc}")
        except (ConnectionError, OSError) as exc:
            self.fail(f"the candidate process ended ({type(exc).__name__})")
        except Exception as exc:  # whatever it sent, it fails this candidate and nothing else
            self.fail(f"the candidate broke the check protocol: {type(exc).__name__}")

    def _dispatch(self, header: dict[str, Any], body: bytes) -> None:
        kind = header.get("t")
        if kind == "started" and not self.started.is_set():
            layers = header.get("layers")
            if isinstance(layers, list):
                self.layers = [x for x in layers if isinstance(x, str) and x in KNOWN_LAYERS]
            self.started.set()
            return
        if not self.started.is_set():
            raise FrameError(f"sent {str(kind)[:20]!r} before the sandbox had started")
        if kind in ("loaded", "load_error"):
            inst = header.get("inst")
            future = self._loads.get(inst) if isinstance(inst, int) else None
            if future is None or future.done():
                raise FrameError("reported a load nobody asked for")
            if kind == "loaded":
                future.set_result(None)
            else:
                future.set_exception(LoadFailed(plain_text(header.get("error"), LOAD_ERROR_CHARS)))
            return
        rid = header.get("id")
        asked = self._waiting.pop(rid, None) if isinstance(rid, int) else None
        if asked is None and rid in self._abandoned:
            self._abandoned.discard(rid)
            return
        if asked is None or asked.done():
            raise FrameError("answered a request nobody sent (or answered one twice)")
        if kind == "pong":
            asked.set_result(None)
            return
        if kind != "resp":
            raise FrameError(f"sent a frame of unknown type {str(kind)[:20]!r}")
        status = header.get("status")
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            raise FrameError("sent an answer whose status is not an HTTP status code")
        asked.set_result((status, _header_pairs(header.get("headers")), body))

    def fail(self, reason: str) -> None:
        """The candidate is done for: everything waiting on it ends with ``reason``."""
        if self.gone is None:
            self.gone = reason
        for future in (*self._loads.values(), *self._waiting.values()):
            if not future.done():
                future.set_exception(CandidateGone(self.gone))
                future.exception()  # retrieved: nobody may be waiting any more
        self._waiting.clear()
        if self._writer is not None:
            self._writer.close()

    # -- what the runner asks ------------------------------------------------------
    async def _send(self, header: dict[str, Any], body: bytes = b"") -> None:
        """Queue a frame; the frames queued in one turn of the event loop leave in one write.

        Requests a check sends together (``asyncio.gather`` of 8 concurrent
        approvals) then reach the candidate together, and its server starts
        them all before running any: the same interleaving on every run, as
        when the app was called in-process. One write a frame would let a
        candidate finish the first request before the next arrived, so a
        check-then-set race would be caught on some runs and not others.
        """
        if self.gone is not None or self._writer is None:
            raise CandidateGone(self.gone or "the candidate process is not running")
        self._outbox.append(encode(header, body))
        if len(self._outbox) == 1:
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        frames, self._outbox = self._outbox, []
        if self.gone is not None or self._writer is None or not frames:
            return
        try:
            self._writer.write(b"".join(frames))
        except (ConnectionError, OSError) as exc:
            self.fail(f"the candidate process ended ({type(exc).__name__})")

    async def _ask(self, header: dict[str, Any], body: bytes = b"") -> Any:
        self._next += 1
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[self._next] = future
        rid = self._next
        await self._send({**header, "id": rid}, body)
        try:
            return await future
        finally:
            if self._waiting.pop(rid, None) is not None:
                # Given up on (a check timed out): a late answer is allowed once, then forgotten.
                self._abandoned.add(rid)

    async def loaded(self, inst: int = 0) -> None:
        """Wait for instance ``inst`` to load; LoadFailed with its reason, CandidateGone if it died."""
        future = self._loads.get(inst)
        if future is None:
            future = self._loads[inst] = asyncio.get_running_loop().create_future()
            await self._send({"op": "load", "inst": inst})
        await asyncio.shield(future)

    def exchange_for(self, inst: int) -> Exchange:
        """The ``Exchange`` (direct.py) that sends a request to instance ``inst``."""

        async def exchange(scope: dict[str, Any], content: bytes) -> Answer:
            header = {
                "op": "req",
                "inst": inst,
                "method": scope["method"],
                "path": scope["path"],
                "raw_path": bytes(scope["raw_path"]).decode("latin-1"),
                "query": bytes(scope["query_string"]).decode("latin-1"),
                "headers": [[bytes(k).decode("latin-1"), bytes(v).decode("latin-1")] for k, v in scope["headers"]],
                "server": list(scope["server"]),
            }
            status, headers, body = await self._ask(header, content)
            return (status, *decoded(headers, body))

        return exchange

    async def alive(self, timeout: float) -> bool:
        """Does its event loop still answer? False when a handler is blocking the whole server."""
        try:
            await asyncio.wait_for(self._ask({"op": "ping"}), timeout)
        except (TimeoutError, CandidateGone):
            return False
        return True

    async def close(self) -> None:
        loop = asyncio.get_running_loop()
        self.fail(self.gone or "closed")
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader_task
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
                await self._writer.wait_closed()
        for fd in (self.output_fd, self.where_fd):
            loop.remove_reader(fd)
            with contextlib.suppress(OSError):
                os.close(fd)

    def output_text(self) -> str:
        return self.output.decode("utf-8", "replace")
