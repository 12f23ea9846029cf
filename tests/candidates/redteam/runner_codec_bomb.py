"""Exhaust the check runner's memory through a text codec: a 242-byte body in "charset=bz2_codec".

/echo answers 400 with Content-Type "text/plain; charset=bz2_codec" and
300 MiB of zeros bzip2'd to 242 bytes. The failing check quotes the body
(``response.text``), and the runner's HTTP client decodes it with whatever
codec the charset names: Python's bz2_codec decompresses it in the runner.
The test measures the runner's peak memory.
"""

import base64

from fastapi import FastAPI, Request
from fastapi.responses import Response

BOMB = base64.b64decode(
    "QlpoOTFBWSZTWQ4J4t8BX45AAMAAAAggADCATUZCoCWpCoCXMUFZJlNZDgni3wFfjkAAwAAACCAAMIBNRkKgJakKgJcxQVkm"
    "U1kOCeLfAV+OQADAAAAIIAAwgE1GQqAlqQqAlzFBWSZTWQ4J4t8BX45AAMAAAAggADCATUZCoCWpCoCXMUFZJlNZDgni3wFf"
    "jkAAwAAACCAAMIBNRkKgJakKgJcxQVkmU1kOCeLfAV+OQADAAAAIIAAwgE1GQqAlqQqAlzFBWSZTWaJ1bucBLBJABMAAAAEA"
    "CCAAMMwFKaYiBSNiRApHi7kinChIKup7h4A="
)
app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return Response(BOMB, status_code=400, media_type="text/plain; charset=bz2_codec")
