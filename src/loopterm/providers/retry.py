"""The retry policy every real provider shares: how long to wait, what a server asks, what failed.

``StreamingProvider.generate`` (``streaming.py``) retries rate limits, 5xx,
timeouts, unreachable servers and cut streams with these waits; which kinds
are retryable is ``ErrorKind.retryable``.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Waits between retries: ``base_s * 2**n`` capped at ``cap_s``.

    A server's Retry-After wins over the computed wait; one asking for more
    than ``max_retry_after_s`` is not retried (the lane fails with the wait in
    its message) rather than stalling a race for minutes.
    """

    base_s: float = 0.5
    cap_s: float = 20.0
    max_retry_after_s: float = 60.0

    def delay(self, retry_index: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return max(0.0, retry_after)
        return min(self.cap_s, self.base_s * 2.0**retry_index)


# Tests replace this (or pass ``backoff=`` to a provider) to keep waits tiny.
DEFAULT_BACKOFF = Backoff()


def parse_retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from ``retry-after-ms`` or ``retry-after`` (seconds or an HTTP date)."""
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    ms = lowered.get("retry-after-ms")
    if ms is not None:
        try:
            return max(0.0, float(ms) / 1000)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        seconds = float(value)
        return max(0.0, seconds) if math.isfinite(seconds) else None
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def transport_failure(exc: BaseException) -> str | None:
    """Sort an httpx-family error (httpx or httpx2) into "connect", "timeout" or
    "transport" (lost after connecting); None when it is not one.

    Judged by class names in the MRO so it holds whichever httpx the SDK uses.
    """
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & {"ConnectError", "ConnectTimeout"} or isinstance(exc, ConnectionRefusedError):
        return "connect"
    if "TimeoutException" in names:
        return "timeout"
    if "TransportError" in names or isinstance(exc, ConnectionError):
        return "transport"
    return None
