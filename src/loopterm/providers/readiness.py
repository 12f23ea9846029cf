"""Can a lane run here, and does it answer? (``loopterm lanes`` and ``--check``.)

``readiness`` looks without sending a request: the key's variable is set
(never its value), a local server accepts a TCP connection, the local extra
is installed. ``check`` sends one tiny real request through the lane's own
provider, so it fails exactly the way a race would.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass
from urllib.parse import urlsplit

from loopterm.lanes import Lane, ollama_url, safe_url
from loopterm.providers.base import ErrorKind, Generation

PROBE_TIMEOUT_S = 0.5
CHECK_PROMPT = "Reply with the single word: ok"
CHECK_MAX_TOKENS = 16
_LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1", "0.0.0.0", "host.docker.internal"})


@dataclass(frozen=True)
class Readiness:
    ready: bool
    detail: str  # what is there, or what is missing and what to do


def server_url(lane: Lane) -> str | None:
    """The URL a lane talks to (None: the SDK's hosted default or in-process)."""
    if lane.provider == "ollama":
        return lane.base_url or ollama_url()
    return lane.base_url


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
    if lane.simulated:
        return Readiness(True, "simulated: offline, no key")
    if lane.provider == "llamacpp":
        from loopterm.providers import llamacpp

        missing = llamacpp.readiness(lane)
        return Readiness(missing is None, missing or "in-process, offline")
    var = lane.api_key_env
    if var and not os.environ.get(var, "").strip():
        return Readiness(False, f"no key: set {var}")
    needs = needs_key_variable(lane)
    if needs:
        return Readiness(False, needs)
    url = server_url(lane)
    if url is not None and is_local(url):
        shown = safe_url(url)
        if await tcp_probe(url):
            return Readiness(True, f"server up at {shown}")
        return Readiness(False, f"cannot reach {shown}: is the server running?")
    if var:
        return Readiness(True, f"key in {var}")
    return Readiness(True, "no key named (the server must not need one)" if url else "no key needed")


def needs_key_variable(lane: Lane) -> str | None:
    """What to do when a lane names no key variable but its endpoint always wants a key."""
    if lane.api_key_env:
        return None
    if lane.provider == "gemini":
        return "Gemini always needs a key: set api_key_env (e.g. GEMINI_API_KEY) for this lane"
    if lane.provider == "openai" and lane.base_url is None:
        return "api.openai.com needs a key: set api_key_env (e.g. OPENAI_API_KEY) for this lane"
    return None


def tiny(lane: Lane, timeout_s: float) -> Lane:
    """The lane capped to a few output tokens, no retries, a short timeout."""
    params = dict(lane.params)
    if lane.provider == "openai":
        # OpenAI's newer models refuse max_tokens; other servers may not know its successor.
        key = "max_completion_tokens" if lane.base_url is None else "max_tokens"
        if "max_tokens" not in params and "max_completion_tokens" not in params:
            params[key] = CHECK_MAX_TOKENS
    elif lane.provider == "gemini":
        params["max_output_tokens"] = CHECK_MAX_TOKENS
    elif lane.provider == "ollama":
        params["num_predict"] = CHECK_MAX_TOKENS
    elif lane.provider == "llamacpp":
        params["max_tokens"] = CHECK_MAX_TOKENS
    return lane.model_copy(
        update={"params": params, "max_retries": 0, "timeout_s": min(lane.timeout_s, timeout_s)}
    )


async def check(lane: Lane, timeout_s: float = 30.0) -> Generation:
    """One tiny real request through the lane's provider."""
    if lane.simulated:
        return Generation(error="simulated lanes have nothing to check", error_kind=ErrorKind.UNAVAILABLE)
    from loopterm.providers import make_provider

    provider = make_provider(tiny(lane, timeout_s))
    return await provider.generate([{"role": "user", "content": CHECK_PROMPT}])
