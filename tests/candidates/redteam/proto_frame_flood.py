"""Attack the worker protocol with a flood: a thread writes frames into fd 3 as fast as it can.

Half a second after loading, a thread sends well-formed frames with 1 MiB
bodies (the largest allowed) and tiny pongs for ids nobody sent, as fast as
the socket takes them, for two seconds. The runner must stop reading at the
first bad frame (this candidate's failure) without buffering the flood or
slowing other lanes.
"""

import json
import os
import struct
import threading
import time

from fastapi import FastAPI, Request


def frame(header: dict, body: bytes = b"") -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("!II", len(raw), len(body)) + raw + body


BIG = frame({"t": "resp", "id": 10**9, "status": 200, "headers": []}, b"x" * (1 << 20))
SMALL = b"".join(frame({"t": "pong", "id": 10**9 + i}) for i in range(1000))


def flood() -> None:
    time.sleep(0.5)
    end = time.monotonic() + 2.0
    sent = 0
    while time.monotonic() < end:
        try:
            sent += os.write(3, BIG) + os.write(3, SMALL)
        except OSError:
            break
    print("FLOODED", sent >> 20, "MiB")


threading.Thread(target=flood, daemon=True).start()
app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
