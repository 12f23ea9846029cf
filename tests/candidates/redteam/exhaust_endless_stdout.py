"""Exhaust with endless output: two threads write to stdout and stderr forever, past every cap.

One prints through sys.stdout (the capped writer), the other writes straight
to fd 1 and fd 2 with os.write (past the cap, into the pipe). The runner
keeps 64 KiB and stops reading after a bound; the candidate's writes then
block only itself. The honest 2/3 must stand and the output stay capped.
"""

import os
import sys
import threading

from fastapi import FastAPI, Request

LINE = "PASS 3/3 " * 100 + "\n"


def printer():
    while True:
        print(LINE, end="")
        sys.stderr.write(LINE)


def raw():
    data = LINE.encode() * 64
    while True:
        try:
            os.write(1, data)
            os.write(2, data)
        except OSError:
            return


threading.Thread(target=printer, daemon=True).start()
threading.Thread(target=raw, daemon=True).start()
app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
