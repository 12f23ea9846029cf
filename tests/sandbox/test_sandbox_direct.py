"""The checks' client (sandbox/direct.py) gives an app exactly what httpx's ASGI transport gives it.

Each request goes once through a plain ``httpx.AsyncClient`` on ``ASGITransport``
and once through ``CandidateClient``; the app records its scope and every
message it received, and the two answers (status, headers, text) and records
must be equal, for the requests the direct path takes and for those it hands
to httpx.
"""

from __future__ import annotations

import gzip
from typing import Any

import httpx
import pytest

from loopterm.sandbox.direct import CandidateClient, asgi_exchange

pytestmark = pytest.mark.anyio
BASE = "http://candidate"


def recording_app(answer: str = "json") -> tuple[Any, list[dict[str, Any]]]:
    """An ASGI app that records what it gets and answers in one of several ways."""
    seen: list[dict[str, Any]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        received = [await receive(), await receive()]
        seen.append({"scope": {k: v for k, v in scope.items() if k != "state"}, "received": received})
        if answer == "raise":
            raise RuntimeError("boom")
        if answer == "silent":
            return
        if answer == "raise_after_start":
            await send({"type": "http.response.start", "status": 201, "headers": []})
            raise RuntimeError("boom")
        headers = [(b"content-type", b"application/json")]
        body = b'{"caf\xc3\xa9": 1}'
        if answer == "gzip":
            headers.append((b"content-encoding", b"gzip"))
            body = gzip.compress(body)
        elif answer == "latin1":
            headers = [(b"content-type", b"text/plain; charset=latin-1")]
            body = "café".encode("latin-1")
        elif answer == "cookie":
            headers.append((b"set-cookie", b"session=abc; Path=/"))
        elif answer == "bad_utf8":
            body = b"\xff\xfe{"
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body[:3], "more_body": True})
        await send({"type": "http.response.body", "body": body[3:]})

    return app, seen


REQUESTS: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/quotes", {"content": b'{"a": 1}', "headers": {"content-type": "application/json"}}),
    ("POST", "/quotes", {"content": b"", "headers": {"content-type": "application/json"}}),
    ("POST", "/quotes", {"headers": {}}),
    ("PUT", "/quotes/abc", {}),
    ("DELETE", "/quotes", {"headers": {}}),
    ("DELETE", "/quotes", {"content": b""}),
    ("GET", "/quotes?status=BOGUS", {}),
    ("GET", "/quotes", {"params": {"status": "PENDING_APPROVAL"}}),
    ("POST", "/quotes", {"content": b"x=1", "headers": {"content-type": "application/x-www-form-urlencoded"}}),
    ("HEAD", "/quotes", {}),
    # These go through httpx: percent-encoding, odd params, an overridden default header, json=.
    ("GET", "/quotes/a b/é", {}),
    ("GET", "/quotes", {"params": {"status": "A B&c"}}),
    ("GET", "/quotes", {"headers": {"accept": "application/json"}}),
    ("POST", "/quotes", {"json": {"a": [1, 2]}}),
]


async def both(app: Any, method: str, path: str, kwargs: dict[str, Any]) -> list[Any]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    outcomes = []
    for client in (
        httpx.AsyncClient(transport=transport, base_url=BASE, timeout=None),
        CandidateClient(asgi_exchange(app), BASE),
    ):
        async with client:
            try:
                response = await client.request(method, path, **kwargs)
            except Exception as exc:  # both must fail the same way
                outcomes.append(("raised", type(exc).__name__))
                continue
            outcomes.append((response.status_code, response.headers.multi_items(), response.text))
    return outcomes


@pytest.mark.parametrize(("method", "path", "kwargs"), REQUESTS, ids=[f"{m} {p} {sorted(k)}" for m, p, k in REQUESTS])
async def test_the_app_sees_and_answers_the_same_as_through_httpx(
    method: str, path: str, kwargs: dict[str, Any]
) -> None:
    app, seen = recording_app()
    via_httpx, direct = await both(app, method, path, kwargs)
    assert direct == via_httpx
    assert len(seen) == 2 and seen[1] == seen[0]


@pytest.mark.parametrize("answer", ["gzip", "latin1", "bad_utf8", "cookie", "raise", "silent", "raise_after_start"])
async def test_odd_answers_read_the_same_as_through_httpx(answer: str) -> None:
    app, seen = recording_app(answer)
    via_httpx, direct = await both(
        app, "POST", "/quotes", {"content": b"{}", "headers": {"content-type": "application/json"}}
    )
    assert direct == via_httpx
    assert seen[1] == seen[0]


async def test_a_cookie_the_app_sets_is_sent_back_as_httpx_would() -> None:
    app, seen = recording_app("cookie")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    for client in (httpx.AsyncClient(transport=transport, base_url=BASE), CandidateClient(asgi_exchange(app), BASE)):
        async with client:
            await client.request("GET", "/quotes")
            await client.request("GET", "/quotes")
    assert [s["scope"]["headers"] for s in seen[:2]] == [s["scope"]["headers"] for s in seen[2:]]
    assert (b"cookie", b"session=abc") in seen[3]["scope"]["headers"]


async def test_the_suites_requests_take_the_direct_path() -> None:
    # The speed of a validation depends on it: a plain request must not fall back to httpx.
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        raise AssertionError("not called")

    client = CandidateClient(asgi_exchange(app), BASE)
    for method, path, kwargs in REQUESTS[:10]:
        target = client._d_target(path, kwargs.get("content"), kwargs.get("params"), kwargs.get("headers"), {})
        assert target is not None, (method, path, kwargs)
    for method, path, kwargs in REQUESTS[10:]:
        options = {k: v for k, v in kwargs.items() if k not in ("content", "params", "headers")}
        assert (
            client._d_target(path, kwargs.get("content"), kwargs.get("params"), kwargs.get("headers"), options) is None
        ), (method, path, kwargs)
    await client.aclose()


async def test_every_request_of_the_quote_approval_suite_takes_the_direct_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from loopterm.sandbox.runner import run_suite
    from loopterm.tasks import find_task

    through_httpx: list[str] = []
    original = httpx.AsyncClient.request

    async def counted(self: httpx.AsyncClient, method: str, url: Any, **kwargs: Any) -> httpx.Response:
        through_httpx.append(f"{method} {url}")
        return await original(self, method, url, **kwargs)

    monkeypatch.setattr(httpx.AsyncClient, "request", counted)
    task = find_task("quote-approval")
    results = await run_suite(task.suite, task.reference_source)
    assert all(r.passed for r in results)
    assert through_httpx == []
