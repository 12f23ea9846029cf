"""Attack the worker protocol through fd 4: a thread writes "which line" reports into it forever.

fd 4 is the pipe the runner reads a stuck candidate's line from. A daemon
thread writes to it as fast as the pipe takes, for the candidate's whole
life. The runner must not spend its time (every lane's time) reading it, and
the honest 2/3 must stand.
"""

import os
import threading

from fastapi import FastAPI, Request

LINE = b"line 1 (in hello): all checks passed\n" * 100


def flood() -> None:
    while True:
        try:
            os.write(4, LINE)
        except OSError:
            return


threading.Thread(target=flood, daemon=True).start()
app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
