"""Attack the worker protocol with a huge frame: a prefix announcing a 4 GiB header and a 4 GiB body.

Written into fd 3 from the /echo handler, then 1 MiB of filler. The runner must
refuse it from the prefix alone (before allocating anything), end this
candidate with "broke the check protocol", and carry on with other lanes.
"""

import os
import struct

from fastapi import FastAPI, Request

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    os.write(3, struct.pack("!II", 0xFFFFFFFF, 0xFFFFFFFF))
    try:
        os.write(3, b"\0" * (1 << 20))
    except OSError:
        pass
    return {"echo": "unfinished"}
