"""The checks' HTTP client: an ``httpx.AsyncClient`` whose plain requests skip httpx's machinery.

A validation sends about 170 requests, and ``httpx.AsyncClient`` spends about
two thirds of each one building and parsing URLs, merging headers and running
cookie and auth hooks before its ASGI transport calls the app. For a plain
request (a str path of safe characters, bytes or no body, simple headers and
params, no cookies, auth, redirects or per-request options) ``request`` here
calls the app itself, with exactly the scope, headers (names, values, order)
and receive/send messages that ``httpx.ASGITransport`` would give it, and
returns a real ``httpx.Response`` built the way the transport builds it (so
decoding, headers and ``.text`` are httpx's own). Anything else goes through
httpx unchanged. ``tests/sandbox/test_sandbox_direct.py`` compares the two paths.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

# One request's answer: status, headers (as an ASGI app sends them), body.
Answer = tuple[int, Any, bytes]
# Sends one request (an ASGI scope and its whole body) to a candidate and returns the answer.
Exchange = Callable[[dict[str, Any], bytes], Awaitable[Answer]]

_SAFE_PATH = re.compile(r"/[A-Za-z0-9\-._~/]*")
_SAFE_QUERY = re.compile(r"[A-Za-z0-9\-._~=&]*")
_SAFE_PARAM = re.compile(r"[A-Za-z0-9\-._~]*")
_SAFE_HEADER_VALUE = re.compile(r"[ -~]*")  # printable ASCII: httpx sends it as is
# Methods for which httpx adds "Content-Length: 0" to a request without a body.
_EMPTY_BODY_LENGTH = ("POST", "PUT", "PATCH")


class CandidateClient(httpx.AsyncClient):
    """An AsyncClient whose requests reach a candidate through ``exchange``; plain ones skip httpx.

    ``exchange`` is :func:`asgi_exchange` for an app in this process (tests of the
    suite on trusted code) or the check runner's framed connection to a sandboxed
    candidate process (``remote.py``); both see the same scope.
    """

    def __init__(self, exchange: Exchange, base_url: str) -> None:
        transport = ExchangeTransport(exchange)
        super().__init__(transport=transport, base_url=base_url, timeout=None)
        # Our attributes are _d_*: AsyncClient has its own _headers, _transport, ...
        self._d_exchange = exchange
        self._d_client = transport.client
        url = self.base_url
        self._d_server = (url.host, url.port)
        self._d_scheme = url.scheme
        self._d_prefix = url.raw_path.rstrip(b"/").decode("ascii")
        self._d_host = [(b"host", url.netloc)]
        self._d_defaults = [(name.lower(), value) for name, value in self.headers.raw]
        self._d_default_names = {name.decode("latin-1") for name, _ in self._d_defaults}

    async def request(
        self,
        method: str,
        url: httpx.URL | str,
        *,
        content: Any = None,
        params: Any = None,
        headers: Any = None,
        **options: Any,
    ) -> httpx.Response:
        target = self._d_target(url, content, params, headers, options)
        if target is None:
            return await super().request(method, url, content=content, params=params, headers=headers, **options)
        path, query = target
        response = await self._d_call(method.upper(), path, query, content, headers or {})
        if "set-cookie" in response.headers:  # keep the jar as httpx would (then httpx sends it)
            response.request = self.build_request(method, url, content=content, params=params, headers=headers)
            self.cookies.extract_cookies(response)
        return response

    def _d_target(
        self, url: Any, content: Any, params: Any, headers: Any, options: dict[str, Any]
    ) -> tuple[str, str] | None:
        """(path, query string) when this request can skip httpx exactly, else None."""
        if options or self.cookies or not isinstance(url, str):
            return None
        if content is not None and not isinstance(content, bytes):
            return None
        path, _, query = url.partition("?")
        if not _SAFE_PATH.fullmatch(path) or not _SAFE_QUERY.fullmatch(query):
            return None
        if params:
            if query or not isinstance(params, dict):
                return None
            pairs = list(params.items())
            if not all(
                isinstance(k, str) and isinstance(v, str) and _SAFE_PARAM.fullmatch(k) and _SAFE_PARAM.fullmatch(v)
                for k, v in pairs
            ):
                return None
            query = "&".join(f"{k}={v}" for k, v in pairs)
        if headers:
            if not isinstance(headers, dict):
                return None
            for name, value in headers.items():
                if not (
                    isinstance(name, str)
                    and isinstance(value, str)
                    and name.isascii()
                    and _SAFE_HEADER_VALUE.fullmatch(value)
                ):
                    return None
                lowered = name.lower()
                if lowered in self._d_default_names or lowered in ("host", "content-length", "cookie"):
                    return None
        return self._d_prefix + path, query

    def _d_headers(self, method: str, content: bytes | None, headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
        given = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
        if content:  # httpx treats an empty body as none at all
            return [*self._d_host, *self._d_defaults, *given, (b"content-length", str(len(content)).encode())]
        if method in _EMPTY_BODY_LENGTH:
            return [*self._d_host, (b"content-length", b"0"), *self._d_defaults, *given]
        return [*self._d_host, *self._d_defaults, *given]

    async def _d_call(
        self, method: str, path: str, query: str, content: bytes | None, headers: dict[str, str]
    ) -> httpx.Response:
        # What httpx.ASGITransport.handle_async_request does, step for step.
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "headers": self._d_headers(method, content, headers),
            "scheme": self._d_scheme,
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "server": self._d_server,
            "client": self._d_client,
            "root_path": "",
        }
        status, response_headers, body = await self._d_exchange(scope, content if content is not None else b"")
        response = answer_response(status, response_headers, body)
        await response.aread()
        return response


# Codecs whose decoding takes time linear in the body. A candidate naming another
# charset (punycode's decoder is quadratic: seconds for 200 KB, in the check runner
# every lane shares) has its text read as UTF-8 instead.
LINEAR_CODECS = frozenset(
    {"utf-8", "ascii", "iso8859-1", "cp1252", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le", "utf-32-be"}
)


def answer_response(status: int, headers: Any, body: bytes) -> httpx.Response:
    """The ``httpx.Response`` for an answer, its text decoded with a linear-time codec."""
    import codecs

    response = httpx.Response(status, headers=headers, stream=httpx.ByteStream(body))
    charset = response.charset_encoding
    if charset is not None:
        try:
            name = codecs.lookup(charset).name
        except LookupError:
            name = ""
        if name not in LINEAR_CODECS:
            response.encoding = "utf-8"
    return response


def asgi_exchange(app: Any) -> Exchange:
    """Run ``app`` in this process for each request, exactly as ``httpx.ASGITransport`` does."""

    async def exchange(scope: dict[str, Any], content: bytes) -> Answer:
        chunks = [content]  # httpx sends the body as one chunk
        request_complete = False
        status_code: int | None = None
        response_headers: Any = None
        body_parts: list[bytes] = []
        response_started = False
        response_complete = asyncio.Event()

        async def receive() -> dict[str, Any]:
            nonlocal request_complete
            if request_complete:
                await response_complete.wait()
                return {"type": "http.disconnect"}
            if chunks:
                return {"type": "http.request", "body": chunks.pop(), "more_body": True}
            request_complete = True
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: Any) -> None:
            nonlocal status_code, response_headers, response_started
            if message["type"] == "http.response.start":
                assert not response_started
                status_code = message["status"]
                response_headers = message.get("headers", [])
                response_started = True
            elif message["type"] == "http.response.body":
                assert not response_complete.is_set()
                body = message.get("body", b"")
                if body and scope["method"] != "HEAD":
                    body_parts.append(body)
                if not message.get("more_body", False):
                    response_complete.set()

        try:
            await app(scope, receive, send)
        except Exception:  # as the transport does with raise_app_exceptions=False
            response_complete.set()
            if status_code is None:
                status_code = 500
            if response_headers is None:
                response_headers = {}
        assert response_complete.is_set()
        assert status_code is not None
        assert response_headers is not None
        return status_code, response_headers, b"".join(body_parts)

    return exchange


class ExchangeTransport(httpx.AsyncBaseTransport):
    """The httpx path for requests the direct path does not take: the scope ``httpx.ASGITransport`` builds."""

    client = ("127.0.0.1", 123)  # what httpx.ASGITransport reports as the client address

    def __init__(self, exchange: Exchange) -> None:
        self.exchange = exchange

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        content = await request.aread()
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": request.method,
            "headers": [(k.lower(), v) for (k, v) in request.headers.raw],
            "scheme": request.url.scheme,
            "path": request.url.path,
            "raw_path": request.url.raw_path.split(b"?")[0],
            "query_string": request.url.query,
            "server": (request.url.host, request.url.port),
            "client": self.client,
            "root_path": "",
        }
        status, headers, body = await self.exchange(scope, content)
        return answer_response(status, headers, body)
