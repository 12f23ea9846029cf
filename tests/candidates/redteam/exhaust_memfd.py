"""Exhaust the machine's memory past its own limit: memfd_create files, which RLIMIT_AS does not count.

A memfd is a file in the kernel's internal tmpfs: its pages belong to no
mapping of the candidate (so the address-space limit does not see them) and
to no folder (so the 64 MiB quota does not either). It fills memfds of 16
MiB (the file-size limit) up to 1.25 x its memory limit, holds them, prints
HELD <MiB> and serves. The test checks HELD against the memory limit.
"""

import os

from fastapi import FastAPI, Request

LIMIT_MIB = int("@@MEMORY_MIB@@")
WANT = LIMIT_MIB * 5 // 4
CHUNK = bytes(1 << 20)
held, fds, error = 0, [], None
try:
    while held < WANT:
        fd = os.memfd_create(f"hold{len(fds)}")
        fds.append(fd)
        for _ in range(16):
            if held >= WANT:
                break
            os.write(fd, CHUNK)
            held += 1
except OSError as exc:
    error = exc.strerror
print("HELD", held, "MiB in", len(fds), "memfds;", error)
if held > LIMIT_MIB:
    print("ESCAPED memory limit of", LIMIT_MIB, "MiB: holding", held, "MiB in memfds")

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
