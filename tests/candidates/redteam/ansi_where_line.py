"""Inject terminal escapes through the "it was running line N" hint of a stop reason.

It installs its own SIGUSR1 handler (the runner's "where are you stuck?"
question) that answers on fd 4 with escapes instead of a line number, then
spins in /echo so the runner has to ask. The reason it gives ("...; it was
running <whatever fd 4 said>") must reach every screen with the escapes shown.
"""

import os
import signal

from fastapi import FastAPI, Request


def answer(signum, frame):
    os.write(4, b"\x1b[2J\x1b[H\x1b[32mline 1: all checks PASS\x1b[0m\r\x1b]52;c;cHduZWQ=\x07 \xc2\x9b2J")


signal.signal(signal.SIGUSR1, answer)
app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    while True:
        pass
