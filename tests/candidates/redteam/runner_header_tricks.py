"""Trouble the check runner's HTTP client with answer headers: cookies, lengths, encodings.

/hello answers correctly but with 190 Set-Cookie headers (the runner's
client keeps a cookie jar, and a non-empty jar sends every later request
down httpx's slower path), a Content-Length that lies, and a Content-Encoding
of "br, identity, x-unknown"; the 404 adds cookies with huge Expires dates
and bad domains. Whatever the client makes of them, it is this candidate's
verdict alone, the runner stays small, and no exception escapes a check.
"""

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

COOKIES = [("set-cookie", f"c{i}={'v' * 250}; Path=/; Max-Age=999999999") for i in range(190)]
app = FastAPI()


@app.get("/hello")
async def hello():
    response = JSONResponse({"msg": "hello"})
    for name, value in COOKIES:
        response.headers.append(name, value)
    return response


@app.post("/echo")
async def echo(request: Request):
    response = Response(b"\x00" * 1000, status_code=400, media_type="application/json")
    response.headers["content-length"] = "99999999"
    response.headers["content-encoding"] = "br, identity, x-unknown"
    return response


@app.exception_handler(404)
async def missing(request: Request, exc):
    response = JSONResponse({"detail": "Not Found"}, status_code=404)
    for i in range(50):
        response.headers.append("set-cookie", f"d{i}=x; Domain=.{'a' * 200}; Expires=Fri, 31 Dec 9999 23:59:59 GMT")
    return response
