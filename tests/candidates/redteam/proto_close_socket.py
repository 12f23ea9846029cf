"""Attack the worker protocol by closing its socket: shut fd 3 down in the middle of a request.

/hello answers normally; /echo shuts the socket down for writing, then
replaces fd 3 with /dev/null (dup2), so the server's next writes go nowhere.
The runner sees the connection end: this candidate ends, nothing else does.
"""

import os
import socket

from fastapi import FastAPI, Request

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    sock = socket.socket(fileno=os.dup(3))
    sock.shutdown(socket.SHUT_WR)
    sock.close()
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 3)
    return {"echo": "unfinished"}
