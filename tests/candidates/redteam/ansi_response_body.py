"""Inject terminal escapes through answers that end up quoted in check messages.

/hello answers {"msg": <payload>} and /echo answers 400 text/plain <payload>:
the failing checks quote both ("expected msg hello, got ...", "got 400 ...").
The payload clears the screen, writes the clipboard, prints a fake green
PASS over the line with a CR, and carries rich markup.
"""

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse

PAYLOAD = ("\x1b]52;c;cHduZWQ=\x07\x1b[2J\x1b[H\x1b[32mPASS 3/3\x1b[0m\rPASS \x9b2J \u202eSSAP "
           "[bold green]PASS[/]")
app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": PAYLOAD}


@app.post("/echo")
async def echo(request: Request):
    return PlainTextResponse(PAYLOAD, status_code=400)
