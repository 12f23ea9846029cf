"""The candidate process's side of the wire: load the file, serve its app, nothing else.

Runs in the locked-down child (``child.py``). It reads requests as frames from
the check runner, calls the candidate's ASGI app with the scope
``httpx.ASGITransport`` would build, and writes the answers back. It decides
nothing: which checks exist, what they send and whether an answer passes live
in the check runner, another process. Whatever the candidate does to this
module (patch it, write to the socket itself) can only change its own answers.
"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

from loopterm.sandbox.direct import ExchangeTransport, asgi_exchange
from loopterm.sandbox.frames import FrameError, encode, read_frame
from loopterm.sandbox.loader import CandidateLoadError, explain_errors, load_app

# The runner is trusted, but a file or a request is never larger than this.
MAX_SOURCE = 4 * 1024 * 1024
SERVER = ("candidate", None)


def _latin1(pairs: Any) -> list[tuple[bytes, bytes]]:
    return [(str(k).encode("latin-1"), str(v).encode("latin-1")) for k, v in pairs]


def _text(value: Any) -> str:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("latin-1")
    return str(value)


class Server:
    """One candidate's instances, answering the runner's frames on one socket."""

    def __init__(self, source: str, writer: asyncio.StreamWriter, filename: str = "candidate.py") -> None:
        self.source = source
        self.writer = writer
        self.filename = filename
        self.apps: dict[int, Any] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    def send(self, header: dict[str, Any], body: bytes = b"") -> None:
        self.writer.write(encode(header, body))

    def load(self, inst: int) -> None:
        try:
            self.apps[inst] = explain_errors(load_app(self.source, self.filename), self.filename)
        except CandidateLoadError as exc:
            self.send({"t": "load_error", "inst": inst, "error": str(exc)[:2000]})
            return
        self.send({"t": "loaded", "inst": inst})

    async def handle(self, header: dict[str, Any], body: bytes) -> None:
        rid = header["id"]
        app = self.apps.get(header.get("inst", 0))
        method = str(header["method"])
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "headers": _latin1(header["headers"]),
            "scheme": "http",
            "path": str(header["path"]),
            "raw_path": str(header["raw_path"]).encode("latin-1"),
            "query_string": str(header["query"]).encode("latin-1"),
            "server": tuple(header.get("server") or SERVER),
            "client": ExchangeTransport.client,  # the in-process path's, so both scopes match
            "root_path": "",
        }
        status = 500
        headers: Any = []  # whatever the candidate's app sent: their shape is checked below
        parts: list[bytes] = []
        try:
            if app is None:
                raise RuntimeError("no such instance")
            # The same receive/send as httpx.ASGITransport, as the in-process path uses.
            status, headers, answer = await asgi_exchange(app)(scope, body)
            parts = [answer]
        except (SystemExit, KeyboardInterrupt) as exc:
            text = f"the candidate raised {type(exc).__name__}({exc}) while handling a request"
            status, headers, parts = 500, [(b"content-type", b"text/plain; charset=utf-8")], [text.encode()]
        except Exception as exc:  # an app that broke the ASGI rules: say so, as a 500
            text = f"Internal Server Error: the app broke the ASGI protocol: {type(exc).__name__}: {exc}"[:500]
            status, headers, parts = 500, [(b"content-type", b"text/plain; charset=utf-8")], [text.encode()]
        try:
            out = [[_text(k), _text(v)] for k, v in headers]
            code = int(status)
        except Exception:
            out, code, parts = [], 500, [b"the app sent response headers or a status that are not valid"]
        self.send({"t": "resp", "id": rid, "status": code, "headers": out}, b"".join(bytes(p) for p in parts))

    async def serve(self, reader: asyncio.StreamReader) -> None:
        while True:
            frame = await read_frame(reader, max_body=MAX_SOURCE)
            if frame is None:
                return
            header, body = frame
            op = header.get("op")
            if op == "req":
                task = asyncio.ensure_future(self.handle(header, body))
                self.tasks.add(task)
                task.add_done_callback(self.tasks.discard)
            elif op == "ping":
                self.send({"t": "pong", "id": header.get("id")})
            elif op == "load":
                self.load(int(header["inst"]))
            await self.writer.drain()


def first_source(sock: socket.socket) -> str:
    """The candidate's file: the runner's first frame, read before the event loop starts."""
    import json

    from loopterm.sandbox.frames import PREFIX

    def exactly(n: int) -> bytes:
        data = bytearray()
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise FrameError("the check runner closed the connection")
            data += chunk
        return bytes(data)

    header_len, body_len = PREFIX.unpack(exactly(PREFIX.size))
    if body_len > MAX_SOURCE or header_len > 4096:
        raise FrameError("the first frame is too large")
    header = json.loads(exactly(header_len))
    if header.get("op") != "source":
        raise FrameError("the first frame is not the source")
    return exactly(body_len).decode("utf-8", "replace")


def run(sock: socket.socket, source: str) -> None:
    """Serve until the runner closes the connection (it kills this process when it is done)."""
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)

    async def main() -> None:
        reader, writer = await asyncio.open_unix_connection(sock=sock)
        server = Server(source, writer)
        server.load(0)
        await writer.drain()
        await server.serve(reader)

    task = loop.create_task(main())
    for _ in range(1000):
        try:
            loop.run_until_complete(task)
            break
        except (SystemExit, KeyboardInterrupt):
            # asyncio lets these out of whichever task raised them, here a task of
            # the candidate's app. That request fails; the server carries on.
            if task.done():
                raise
