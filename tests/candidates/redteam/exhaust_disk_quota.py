"""Exhaust the disk: fill its folder past the 64 MiB quota with many 1 MiB files, then big ones.

Without the private tmpfs a candidate could fill the machine's disk (each file
stays under RLIMIT_FSIZE, so only a folder quota stops it). It writes until a
write fails, prints HELD <MiB written> and the error, deletes nothing, and
then serves honestly: the test checks HELD against the quota.
"""

import os

from fastapi import FastAPI, Request

CHUNK = b"\xa5" * (1 << 20)
written, error = 0, None
try:
    for n in range(2048):
        with open(f"fill-{n:04d}.bin", "wb") as f:
            f.write(CHUNK)
        written += 1
except OSError as exc:
    error = f"{type(exc).__name__}: {exc.strerror}"
print("HELD", written, "MiB in files;", error)
try:
    with open("big.bin", "wb") as f:
        for _ in range(64):
            f.write(CHUNK)
            written += 1
except OSError as exc:
    print("big file stopped:", exc.strerror)
print("HELD", written)

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
