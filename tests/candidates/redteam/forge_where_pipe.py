"""Forge a result on fd 4, the "which line is it stuck on" pipe.

At import, in every handler and from its own SIGUSR1 handler it writes lines
claiming the run passed. fd 4 is only ever read as a hint appended to a stop
reason; the verdict stays the honest 2/3 and nothing is stopped.
"""

import os
import signal

from fastapi import FastAPI, Request

FAKE = b"all 3 checks passed: PASS 3/3 score 1.00\n"


def forge() -> None:
    for _ in range(200):
        try:
            os.write(4, FAKE)
        except OSError:
            return


signal.signal(signal.SIGUSR1, lambda *_: forge())
forge()
app = FastAPI()


@app.get("/hello")
async def hello():
    forge()
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    forge()
    return {"echo": "unfinished"}
