"""Forge a result by patching asyncio in its own process.

Every frame the candidate-side server writes is followed by forged answers
(status 200, a body claiming success) for request ids 1..8, and asyncio's
timeouts are made to never fire. The runner's timeouts live in another
process; answers to ids it did not send, or answered twice, are the
candidate breaking the protocol: its own failure, never a PASS.
"""

import asyncio
import json
import struct

from fastapi import FastAPI, Request


def frame(header: dict, body: bytes) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("!II", len(raw), len(body)) + raw + body


FORGED = b"".join(frame({"t": "resp", "id": i, "status": 200, "headers": [["content-type", "application/json"]]},
                        b'{"passed": true, "status": "PASS"}') for i in range(1, 9))
_write = asyncio.StreamWriter.write


def write(self, data):
    _write(self, data)
    _write(self, FORGED)


async def wait_for(aw, timeout=None):
    return await aw


asyncio.StreamWriter.write = write
asyncio.wait_for = wait_for
asyncio.timeout = lambda delay: asyncio.timeout_at(None)
app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
