"""Inject terminal escapes through its output: print, sys.stderr and raw writes to fds 1 and 2.

The payload: an OSC 52 clipboard write, a screen clear, a window title, a
cursor move home, "FAIL\rPASS" (a CR printing PASS over FAIL), the one-byte
C1 CSI, a right-to-left override and rich markup. Whatever shows the
candidate's output must show these as visible text, never send them.
"""

import os
import sys

from fastapi import FastAPI, Request

PAYLOAD = ("\x1b]52;c;cHduZWQ=\x07\x1b[2J\x1b[H\x1b]0;pwned\x07\x1b[32mPASS 3/3\x1b[0m FAIL\rPASS "
           "\x9b2J \u202eSSAP [bold green]PASS[/]")
print(PAYLOAD)
print(PAYLOAD, file=sys.stderr)
os.write(1, PAYLOAD.encode() + b"\n")
os.write(2, b"\x1b]52;c;cHduZWQ=\x07\x1b[2J raw bytes \xff\xfe\n")
app = FastAPI()


@app.get("/hello")
async def hello():
    print(PAYLOAD)
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
