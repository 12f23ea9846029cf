"""Attack the worker protocol with answers of the wrong shape for requests really in flight.

It wraps ``Server.send`` so the answers to real requests carry, in turn, a
status of True, a status of "200", a status of 99, 10 000 header pairs,
headers as a dict, a header value that is not latin-1, and a header that is a
3-element list. Each must be this candidate's protocol failure, never a crash
of the runner.
"""

import itertools
import sys

from fastapi import FastAPI, Request

serve = sys.modules["loopterm.sandbox.serve"]
_send = serve.Server.send
MANGLE = itertools.cycle([
    {"status": True},
    {"status": "200"},
    {"status": 99},
    {"headers": [["x-h", "v"]] * 10000},
    {"headers": {"content-type": "application/json"}},
    {"headers": [["x-h", "\u20ac"]]},
    {"headers": [["a", "b", "c"]]},
])


def send(self, header, body=b""):
    if header.get("t") == "resp" and header.get("status") != 200:
        header = {**header, **next(MANGLE)}
    _send(self, header, body)


serve.Server.send = send
app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
