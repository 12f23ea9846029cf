"""Exhaust the check runner's memory: a 658-byte answer that decompresses to 300 MiB in the runner.

/echo answers 400 with "Content-Encoding: gzip, gzip" and a body gzipped
twice (300 MiB of zeros -> 300 KiB -> 658 bytes; a third layer would make a
1 MiB answer decompress to terabytes). The frame is tiny, well under every
cap, but the runner's HTTP client decodes the body when it reads the answer,
and the check quotes it. Anything a candidate sends must stay bounded in the
runner, which every lane shares. The test measures the runner's peak memory.
"""

import base64

from fastapi import FastAPI, Request
from fastapi.responses import Response

BOMB = base64.b64decode(
    "H4sIAAAAAAACA+3cPU6UYRiG0Q9nihGSQTRWFLIMGhJsrCmgNpYUrAESQ0XjDlgClb0kFO5A7FyAUljQ8Cczu/C7zqne+inv"
    "vLnenc2GhReT35crK8+Pky+PFzez1QEAAAAYuZOfnyeLMWDYevrxYe8AAAAAGLtP6/PpchS4/7j53jkAAABg9E53tl8tfwj8"
    "PT6aOgcAAACM3tvbX7vLLeD709eNffcAAACA0bsWDAAAAIAUwQAAAABoEQwAAACAFsEAAAAAiBEMAAAAgBbBAAAAAGgRDAAA"
    "AIAWwQAAAACIEQwAAACAFsEAAAAAaBEMAAAAgBbBAAAAAIgRDAAAAIAWwQAAAABoEQwAAACAFsEAAAAAiBEMAAAAgBbBAAAA"
    "AGgRDAAAAIAWwQAAAACIEQwAAACAFsEAAAAAaBEMAAAAgBbBAAAAAIgRDAAAAIAWwQAAAABoEQwAAACAFsEAAAAAiBEMAAAA"
    "gBbBAAAAAGgRDAAAAIAWwQAAAACIEQwAAACAFsEAAAAAaBEMAAAAgBbBAAAAAIgRDAAAAIAWwQAAAABoEQwAAACAFsEAAAAA"
    "iBEMAAAAgBbBAAAAAGgRDAAAAIAWwQAAAACIEQwAAACAFsEAAAAAaBEMAAAAgBbBAAAAAIgRDAAAAIAWwQAAAABoEQwAAACA"
    "FsEAAAAAiBEMAAAAgBbBAAAAAGgRDAAAAIAWwQAAAACIEQwAAACAFsEAAAAAaBEMAAAAgBbBAAAAAIgRDAAAAIAWwQAAAABo"
    "EQwAAACAFsEAAAAAiBEMAAAAgBbBAAAAAGgRDAAAAIAWwQAAAACIEQwAAACAlsP1+cvFFjB9OP6z9mYAgP/W+XA1uzsahm+v"
    "/wHa/WOwc6oEAA=="
)
app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return Response(BOMB, status_code=400, headers={"content-encoding": "gzip, gzip"}, media_type="application/json")
