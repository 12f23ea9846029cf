"""Exhaust the machine's memory past its own limit: data parked in UNIX socket buffers.

AF_UNIX socket pairs are allowed (asyncio needs one). As root it may force
their buffers past the system maximum (SO_SNDBUFFORCE / SO_RCVBUFFORCE) and
park data in them that nobody reads: kernel memory, outside its address
space. It parks up to 1.25 x its memory limit, prints HELD <MiB> and serves.
The test checks HELD against the memory limit.
"""

import socket

from fastapi import FastAPI, Request

LIMIT_MIB = int("@@MEMORY_MIB@@")
WANT = LIMIT_MIB * 5 // 4
SO_SNDBUFFORCE, SO_RCVBUFFORCE = 32, 33
CHUNK = bytes(1 << 20)
held, pairs, error = 0, [], None
try:
    while held < WANT:
        a, b = socket.socketpair()
        pairs.append((a, b))
        for sock, opt in ((a, SO_SNDBUFFORCE), (b, SO_RCVBUFFORCE)):
            try:
                sock.setsockopt(socket.SOL_SOCKET, opt, 1 << 30)
            except OSError as exc:
                error = f"setsockopt: {exc.strerror}"
        a.setblocking(False)
        while held < WANT:
            try:
                a.send(CHUNK)
            except BlockingIOError:
                break
            held += 1
        if len(pairs) > 64:
            break
except OSError as exc:
    error = exc.strerror
print("HELD", held, "MiB in", len(pairs), "socket pairs;", error)
if held > LIMIT_MIB:
    print("ESCAPED memory limit of", LIMIT_MIB, "MiB: holding", held, "MiB in socket buffers")

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
