"""Not hostile: an honest candidate holding a secret in its folder, kept alive while a thief runs beside it.

The test runs it concurrently with reach_other_candidate.py and checks that its
secret never shows up in the thief's output. It passes 3/3 when nothing
disturbs it.
"""

import asyncio
import os

from fastapi import FastAPI, Request

SECRET = "@@SECRET@@"
with open("secret.txt", "w") as f:
    f.write(SECRET)
app = FastAPI()


@app.get("/hello")
async def hello():
    await asyncio.sleep(0.8)  # stay alive while the thief looks
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    await asyncio.sleep(0.8)
    return await request.json()
