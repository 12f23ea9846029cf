import sys

from fastapi import FastAPI, Request

app = FastAPI()


@app.get("/hello")
async def hello():
    sys.exit(4)  # SystemExit is not an Exception: it would unwind the whole server


@app.post("/echo")
async def echo(request: Request):
    return await request.json()
