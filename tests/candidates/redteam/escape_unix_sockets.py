"""Escape over UNIX sockets: an abstract socket and a filesystem socket the test listens on.

Connects (stream) and sends datagrams (sendto, and sendmsg with an address)
to the test's abstract names and its socket file, and tries to bind an
abstract name of its own (a rendezvous another process could find). The
test's sockets must receive nothing; prints ESCAPED on success.
"""

import socket

from fastapi import FastAPI, Request

ABSTRACT_STREAM = "\0" + "@@ABSTRACT@@" + "-stream"
ABSTRACT_DGRAM = "\0" + "@@ABSTRACT@@" + "-dgram"
PATH_DGRAM = "@@UNIX_PATH@@"


def attempt(what, fn):
    try:
        fn()
    except BaseException as exc:
        print("REFUSED", what, type(exc).__name__, str(exc)[:100])
    else:
        print("ESCAPED", what)


def stream(address):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(1)
    s.connect(address)
    s.sendall(b"pwned")


def dgram(address):
    socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendto(b"pwned", address)


def dgram_sendmsg(address):
    socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM).sendmsg([b"pwned"], [], 0, address)


attempt("abstract stream connect", lambda: stream(ABSTRACT_STREAM))
attempt("abstract dgram sendto", lambda: dgram(ABSTRACT_DGRAM))
attempt("abstract dgram sendmsg", lambda: dgram_sendmsg(ABSTRACT_DGRAM))
attempt("path dgram sendto", lambda: dgram(PATH_DGRAM))
attempt("path dgram sendmsg", lambda: dgram_sendmsg(PATH_DGRAM))
attempt("path stream connect", lambda: stream(PATH_DGRAM))
attempt("bind abstract", lambda: socket.socket(socket.AF_UNIX, socket.SOCK_STREAM).bind("\0loopterm-rt-own"))

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
