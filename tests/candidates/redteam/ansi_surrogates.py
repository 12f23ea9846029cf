"""Inject lone UTF-16 surrogates and escapes where text crosses boundaries as JSON.

/echo answers 400 in "charset=unicode_escape", so the runner decodes its body
"\ud800\udfff\x1b[2J..." into a str with lone surrogates and a real ESC, which
the check quotes; its own output and a /hello msg carry the JSON escape
"\ud800" too. Lone surrogates have no UTF-8 form: a trace writer or a
terminal that meets one raw would crash. They must end as visible text.
"""

import sys

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

print("lone surrogate ahead: \ud800 and an escape \x1b[2J", file=sys.stderr)
app = FastAPI()


@app.get("/hello")
async def hello():
    return Response(b'{"msg": "\\ud800\\u001b[2Jhello"}', media_type="application/json")


@app.post("/echo")
async def echo(request: Request):
    return Response(b"\\ud800\\udfff\\x1b[2J\\x1b]52;c;cHduZWQ=\\x07 fake PASS \\u202e", status_code=400,
                    media_type="text/plain; charset=unicode_escape")


@app.get("/json")
async def unused():
    return JSONResponse({"x": "\ud800"})
