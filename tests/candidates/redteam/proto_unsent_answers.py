"""Attack the worker protocol with answers to requests never sent.

From /echo it writes answers claiming success for id 10**9, id -1, id "2"
(a string), id 2.0 (a float), id null, and a pong and a "loaded" for an
instance nobody asked to load. Each is a protocol breach that ends this
candidate only.
"""

import json
import os
import struct

from fastapi import FastAPI, Request

BODY = b'{"a": 1}'


def frame(header: dict, body: bytes = b"") -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("!II", len(raw), len(body)) + raw + body


FRAMES = [frame({"t": "resp", "id": rid, "status": 200, "headers": []}, BODY)
          for rid in (10**9, -1, "2", 2.0, None)]
FRAMES += [frame({"t": "pong", "id": 777}), frame({"t": "loaded", "inst": 9})]
app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    for data in FRAMES:
        os.write(3, data)
    return {"echo": "unfinished"}
