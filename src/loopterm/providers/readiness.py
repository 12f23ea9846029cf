"""Can a lane run here, and does it answer? (``loopterm lanes`` and ``--check``.)

``readiness`` looks without sending a request: the key's variable is set
(never its value), a local server accepts a TCP connection, the local extra
is installed. ``check`` sends one tiny real request through the lane's own
provider, so it fails exactly the way a race would.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from loopterm.lanes import Lane, key_problem, kind_of, safe_url, server_url
from loopterm.providers.base import ErrorKind, Generation

PROBE_TIMEOUT_S = 0.5
CHECK_PROMPT = "Reply with the single word: ok"
CHECK_MAX_TOKENS = 16
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", "host.docker.internal"})


@dataclass(frozen=True)
class Readiness:
    ready: bool
    detail: str  # what is there, or what is missing and what to do


def is_local(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    return host in _LOCAL_HOSTS or host.startswith("127.") or host.endswith(".local")


async def tcp_probe(url: str, timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    """True when something accepts a TCP connection at the URL's host and port."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        _reader, writer = await asyncio.wait_for(
            asyncio.open_connection(parts.hostname or "127.0.0.1", port), timeout_s
        )
    except (OSError, TimeoutError):
        return False
    writer.close()
    # The probe already succeeded; a reset while closing changes nothing.
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def readiness(lane: Lane) -> Readiness:
    kind = kind_of(lane)
    if kind.installed is not None:
        module, _, function = kind.installed.partition(":")
        missing = getattr(importlib.import_module(module), function)(lane)
        if missing is not None:
            return Readiness(False, missing)
    if kind.ready_detail:
        return Readiness(True, kind.ready_detail)
    problem = key_problem(lane)
    if problem is not None:
        return Readiness(False, problem)
    url = server_url(lane)
    if url is not None and is_local(url):
        shown = safe_url(url)
        if await tcp_probe(url):
            return Readiness(True, f"server up at {shown}")
        return Readiness(False, f"cannot reach {shown}: is the server running?")
    if lane.api_key_env:
        return Readiness(True, f"key in {lane.api_key_env}")
    return Readiness(True, "no key named (the server must not need one)" if url else "no key needed")


def tiny(lane: Lane, timeout_s: float) -> Lane:
    """The lane capped to a few output tokens, no retries, a short timeout."""
    params = {**lane.params, **kind_of(lane).cap(lane, CHECK_MAX_TOKENS)}
    return lane.model_copy(update={"params": params, "max_retries": 0, "timeout_s": min(lane.timeout_s, timeout_s)})


async def check(lane: Lane, timeout_s: float = 30.0) -> Generation:
    """One tiny real request through the lane's provider."""
    if lane.simulated:
        return Generation(error="simulated lanes have nothing to check", error_kind=ErrorKind.UNAVAILABLE)
    from loopterm.providers import make_provider

    provider = make_provider(tiny(lane, timeout_s))
    return await provider.generate([{"role": "user", "content": CHECK_PROMPT}])
