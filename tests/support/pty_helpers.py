"""Running loopterm on a real pseudo-terminal, as a person (or an SSH session) would."""

from __future__ import annotations

import os
import select
import time


def read_until(fd: int, needle: bytes, timeout: float) -> bytes:
    """Read the terminal until ``needle`` appears (or it closes); fail after ``timeout`` seconds."""
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError(f"{needle!r} never appeared; got {seen[-500:]!r}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    return seen


def drain(fd: int, timeout: float) -> bytes:
    """Everything the terminal still prints until it closes, or ``timeout`` seconds."""
    out = b""
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    return out
