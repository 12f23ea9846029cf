"""Attack the worker protocol with duplicated answers: every answer is sent twice, the second claiming success.

It wraps the candidate-side ``Server.send`` (found in sys.modules) so each
"resp" goes out twice: the real one, then a copy with status 200 and the body
{"a": 1}. The copy answers a request already answered: a protocol breach
that must fail only this candidate, never overwrite the first answer.
"""

import sys

from fastapi import FastAPI, Request

serve = sys.modules["loopterm.sandbox.serve"]
_send = serve.Server.send


def send(self, header, body=b""):
    _send(self, header, body)
    if header.get("t") == "resp":
        _send(self, {**header, "status": 200, "headers": [["content-type", "application/json"]]}, b'{"a": 1}')


serve.Server.send = send
app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
