"""Forge a result on every other fd: 0 and 5..4095, and re-opened /proc/self/fd/N.

Writes a passing "end" report and a "PASS 3/3" line to every descriptor number
it might have inherited from the warm process or the check runner (none should
be open: only /dev/null, its output pipe and its event loop's own epoll and
self-pipe), and re-opens /proc/self/fd/<n> for writing. Prints ESCAPED when a
write lands anywhere else.
"""

import asyncio
import json
import os

from fastapi import FastAPI, Request

PAYLOAD = (json.dumps({"type": "end", "job": 1, "results": [], "loaded": True, "reason": None,
                       "infrastructure": False}) + "\nPASS 3/3\n").encode()


def own_fds() -> set[int]:
    """The descriptors this process made itself: its event loop's epoll and self-pipe."""
    loop = asyncio.get_running_loop()
    return {loop._selector.fileno(), loop._ssock.fileno(), loop._csock.fileno()}


OWN = own_fds()  # at import the candidate-side server's loop is running
DEVNULL = os.stat(os.devnull)


def sweep() -> None:
    own_output = os.fstat(1)
    for fd in [0, *range(5, 4096)]:
        try:
            st = os.fstat(fd)
        except OSError:
            continue
        if fd in OWN or (st.st_dev, st.st_ino) == (own_output.st_dev, own_output.st_ino):
            continue  # its own event loop's, or its own output pipe (a dup of fd 1)
        if (st.st_rdev, st.st_mode) == (DEVNULL.st_rdev, DEVNULL.st_mode):
            continue  # /dev/null (its stdin)
        try:
            os.write(fd, PAYLOAD)
        except OSError:
            continue
        print("ESCAPED wrote to inherited fd", fd, oct(st.st_mode))
    for n in range(0, 64):
        if n in (1, 2, 3, 4):
            continue
        try:
            st = os.fstat(n)
            if n in OWN or (st.st_rdev, st.st_mode) == (DEVNULL.st_rdev, DEVNULL.st_mode):
                continue
        except OSError:
            pass
        try:
            with open(f"/proc/self/fd/{n}", "wb") as f:
                f.write(PAYLOAD)
        except Exception:
            continue
        print("ESCAPED re-opened /proc/self/fd/%d" % n)


sweep()
app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    sweep()
    return {"echo": "unfinished"}
