"""Stall the check runner, every lane's verdicts with it: a body the runner decodes in quadratic time.

/echo answers 400 with Content-Type "text/plain; charset=punycode" and
"-" followed by 200 000 "a"s (200 KB, far under the 1 MiB cap). The failing
check quotes the body (``response.text``); Python's punycode decoder takes
seconds on it (minutes at 1 MiB), all inside the runner's event loop, so
every other validation's requests and timeouts stop meanwhile. The test runs
an honest candidate beside it and checks its verdict and its time.
"""

from fastapi import FastAPI, Request
from fastapi.responses import Response

BODY = b"-" + b"a" * 200_000
app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return Response(BODY, status_code=400, media_type="text/plain; charset=punycode")
