"""Attack the worker protocol with deeply nested JSON: a frame header of 60 000 nested arrays.

A 60 KiB header (under the 64 KiB cap) that is "[[[[...]]]]" 30 000 levels deep,
then one whose "headers" field is nested 20 000 objects deep. Parsing it must
not crash or recurse the runner to death: a RecursionError is this
candidate's protocol failure.
"""

import os
import struct

from fastapi import FastAPI, Request


def frame(raw: bytes) -> bytes:
    return struct.pack("!II", len(raw), 0) + raw


DEEP_LIST = b"[" * 30000 + b"]" * 30000
DEEP_HEADERS = b'{"t":"resp","id":1,"status":200,"headers":' + b'{"a":' * 10000 + b"1" + b"}" * 10000 + b"}"
app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    os.write(3, frame(DEEP_HEADERS) + frame(DEEP_LIST))
    return {"echo": "unfinished"}
