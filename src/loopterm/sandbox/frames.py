"""The wire between the check runner and one candidate process: length-prefixed frames.

A frame is ``!II`` (header length, body length), then the header (a UTF-8 JSON
object), then the body (raw bytes, an HTTP body). Both ends read frames with
hard caps: the runner reads what a candidate wrote, so every size is bounded
before anything is allocated and every parse failure is one ``FrameError``
naming what was wrong (a candidate's own failure, never the runner's).

runner -> candidate::

    {"op": "source"} + body: the candidate's file (the first frame, once)
    {"op": "load", "inst": 1}                 load another, empty instance
    {"op": "req", "id": 7, "inst": 0, "method": "POST", "path": "/q", "raw_path": "/q",
     "query": "", "headers": [["content-type", "application/json"], ...]} + body
    {"op": "ping", "id": 8}

candidate -> runner::

    {"t": "started", "layers": ["rlimits", ...]}  before any candidate code runs
    {"t": "loaded", "inst": 0} | {"t": "load_error", "inst": 0, "error": "..."}
    {"t": "resp", "id": 7, "status": 201, "headers": [[name, value], ...]} + body
    {"t": "pong", "id": 8}

Header names and values, paths and query strings travel as latin-1 text, so
bytes survive the JSON round trip exactly.
"""

from __future__ import annotations

import asyncio
import json
import re
import struct
from typing import Any

PREFIX = struct.Struct("!II")
# What a candidate may send in one frame. A response body past MAX_BODY is
# the candidate's failure ("answer too large"), not something to buffer.
MAX_HEADER = 64 * 1024
MAX_BODY = 1024 * 1024


class FrameError(Exception):
    """A frame broke the protocol; the message says how, in one line."""


def plain_text(value: object, limit: int) -> str:
    """A string field a candidate sent, as text fit to keep: at most ``limit`` characters, no lone surrogates.

    JSON's ``"\\ud800"`` decodes to a lone surrogate, which cannot be written as
    UTF-8 later; each becomes U+FFFD here.
    """
    text = str(value)[:limit]
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = re.sub("[\ud800-\udfff]", "\ufffd", text)
    return text


def size_text(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MiB"
    if n >= 1024:
        return f"{n / 1024:.0f} KiB"
    return f"{n} bytes"


def encode(header: dict[str, Any], body: bytes = b"") -> bytes:
    raw = json.dumps(header, separators=(",", ":")).encode()
    return PREFIX.pack(len(raw), len(body)) + raw + body


async def read_frame(
    reader: asyncio.StreamReader, max_header: int = MAX_HEADER, max_body: int = MAX_BODY
) -> tuple[dict[str, Any], bytes] | None:
    """The next frame, or None at a clean end of stream; FrameError for anything else."""
    try:
        prefix = await reader.readexactly(PREFIX.size)
    except asyncio.IncompleteReadError as exc:
        if exc.partial:
            raise FrameError("closed the connection in the middle of a frame") from None
        return None
    header_len, body_len = PREFIX.unpack(prefix)
    if header_len > max_header:
        raise FrameError(f"sent a frame header of {size_text(header_len)} (limit {size_text(max_header)})")
    if body_len > max_body:
        raise FrameError(f"sent an HTTP body of {size_text(body_len)} (limit {size_text(max_body)})")
    try:
        raw = await reader.readexactly(header_len + body_len)
    except asyncio.IncompleteReadError:
        raise FrameError("closed the connection in the middle of a frame") from None
    try:
        header = json.loads(raw[:header_len])
    except Exception:  # ValueError, RecursionError on deep nesting, UnicodeDecodeError: all the sender's
        raise FrameError("sent a frame whose header is not valid JSON") from None
    if not isinstance(header, dict):
        raise FrameError("sent a frame whose header is not a JSON object")
    return header, raw[header_len:]
