"""Forge a result on fd 3: write frames claiming success into the request socket.

In the /echo handler it writes well-formed frames (the real length prefix and
JSON header) of types a verdict might have: "end" with every check passed,
"result"/"verdict"/"pass", and a "resp" for an id nobody asked. The runner
must treat any of them as the candidate breaking the protocol (its own
failure), never as a result.
"""

import json
import os
import struct

from fastapi import FastAPI, Request

CHECKS = [{"id": i, "passed": True, "message": ""} for i in ("hello", "echo", "missing")]
FORGED = [
    {"t": "end", "results": CHECKS, "loaded": True, "infrastructure": False},
    {"t": "result", "check": "echo", "passed": True},
    {"t": "verdict", "status": "PASS", "passed": 3, "total": 3, "score": 1.0},
    {"t": "pass"},
    {"t": "resp", "id": 999, "status": 200, "headers": [], "passed": True},
]


def frame(header: dict, body: bytes = b"") -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("!II", len(raw), len(body)) + raw + body


app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    for header in FORGED:
        try:
            os.write(3, frame(header, b'{"passed": true}'))
        except OSError as exc:
            print("REFUSED write3", exc)
    return {"echo": "unfinished"}
