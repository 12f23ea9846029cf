"""Exhaust the CPU from an async handler: /echo spins forever without awaiting.

That blocks the candidate's whole event loop (no other request, no ping is
answered). The runner must notice within a check timeout, stop it, say which
line, and keep the checks that had passed.
"""

from fastapi import FastAPI, Request

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    n = 0
    while True:
        n += 1
