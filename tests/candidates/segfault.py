import faulthandler

from fastapi import FastAPI, Request

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return await request.json()


@app.exception_handler(404)
async def not_found(request, exc):
    faulthandler._sigsegv()  # what a crashing C extension looks like
