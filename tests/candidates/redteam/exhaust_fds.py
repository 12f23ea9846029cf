"""Exhaust file descriptors: open thousands of them (files, pipes, socket pairs, eventfds, epolls).

Stops at the first EMFILE, prints COUNT <open descriptors it got>, keeps them
all open, and still serves: asyncio needs a descriptor or two per request,
so the honest part may suffer, but nothing outside this candidate may. The
test checks COUNT against RLIMIT_NOFILE.
"""

import os
import select
import socket

from fastapi import FastAPI, Request

held, error = [], None
try:
    for n in range(5000):
        kind = n % 4
        if kind == 0:
            held.append(os.open(os.devnull, os.O_RDONLY))
        elif kind == 1:
            held.extend(os.pipe())
        elif kind == 2:
            held.extend(socket.socketpair())
        else:
            held.append(select.epoll())
except OSError as exc:
    error = exc.strerror
print("COUNT", len(os.listdir("/proc/self/fd")), error)
# Give a few back so the server can still accept requests.
for _ in range(8):
    item = held.pop()
    item.close() if hasattr(item, "close") else os.close(item)

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
