"""Exhaust the runner's memory with huge answers: /echo answers 64 MiB, /hello 2 MiB.

Answers are capped at 1 MiB on the wire: the runner must refuse one from its
length prefix (before reading it), fail this candidate, and keep its own
memory flat.
"""

from fastapi import FastAPI, Request
from fastapi.responses import Response

app = FastAPI()


@app.get("/hello")
async def hello():
    return Response(b'{"msg": "hello", "pad": "' + b"x" * (2 << 20) + b'"}', media_type="application/json")


@app.post("/echo")
async def echo(request: Request):
    return Response(b"y" * (64 << 20), media_type="application/octet-stream")
