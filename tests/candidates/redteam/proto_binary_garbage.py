"""Attack the worker protocol with binary garbage written into fd 3 mid-stream.

The /echo handler writes 64 KiB of random bytes (a random "length prefix"
and whatever follows), then a frame header that is not UTF-8, then one that
is JSON but not an object. The runner must fail this candidate, not choke.
"""

import os
import random
import struct

from fastapi import FastAPI, Request

rng = random.Random(7)
GARBAGE = bytes(rng.getrandbits(8) for _ in range(1 << 16))
NOT_UTF8 = struct.pack("!II", 4, 0) + b"\xff\xfe\xfd\xfc"
NOT_OBJECT = struct.pack("!II", 7, 0) + b"[1,2,3]"
app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    for data in (NOT_UTF8, NOT_OBJECT, GARBAGE):
        try:
            os.write(3, data)
        except OSError:
            break
    return {"echo": "unfinished"}
