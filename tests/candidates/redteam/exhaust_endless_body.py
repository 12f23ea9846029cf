"""Exhaust with an endless response body: /echo streams 64 KiB chunks forever.

The candidate side gathers a body until it ends, so this one grows until the
check times out or the candidate's memory limit stops it; either way only
this check (or this candidate) fails, within the timeouts, and the honest
/hello and 404 answers still count.
"""

import asyncio

from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    async def forever():
        chunk = b"z" * 65536
        while True:
            yield chunk
            await asyncio.sleep(0)

    return StreamingResponse(forever(), media_type="application/json")
