"""Attack the worker protocol with forged "started" and "loaded" frames.

At import (before the real "loaded") it writes a "started" frame claiming
every protection layer plus made-up ones, and "loaded" frames for instance 0
and instance 1. The real "started" went out before any candidate code ran, so
the layers reported stay the true ones; an early or second "loaded" is a
protocol breach (this candidate's failure).
"""

import json
import os
import struct


def frame(header: dict) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("!II", len(raw), 0) + raw


os.write(3, frame({"t": "started", "layers": ["quota", "rlimits", "landlock-fs", "landlock-tcp",
                                              "landlock-scope", "seccomp", "audit-hook", "gvisor", "vm"]}))
os.write(3, frame({"t": "loaded", "inst": 0}))
os.write(3, frame({"t": "loaded", "inst": 1}))

from fastapi import FastAPI, Request  # noqa: E402

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
