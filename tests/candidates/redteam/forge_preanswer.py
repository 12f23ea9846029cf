"""Forge answers on the socket before the questions: a thread writes "resp" frames for ids 1..64.

Started at import, it writes well-formed answers claiming success (status 200,
{"msg": "hello", "a": 1, "passed": true}) for every request id the runner is
likely to use, over and over for a second, racing the real server. Answers to
requests not yet sent are a protocol breach; at best one lands on a request
in flight, where it is judged like any answer (and is wrong for /echo and for
the 404 check).
"""

import json
import os
import struct
import threading
import time

from fastapi import FastAPI, Request

BODY = json.dumps({"msg": "hello", "a": 1, "passed": True}).encode()


def frame(rid: int) -> bytes:
    header = json.dumps({"t": "resp", "id": rid, "status": 200,
                         "headers": [["content-type", "application/json"]]}).encode()
    return struct.pack("!II", len(header), len(BODY)) + header + BODY


def flood() -> None:
    end = time.monotonic() + 1.0
    while time.monotonic() < end:
        for rid in range(1, 65):
            try:
                os.write(3, frame(rid))
            except OSError:
                return


threading.Thread(target=flood, daemon=True).start()
app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
