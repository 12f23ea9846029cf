"""Escape over the network: TCP and UDP to the test's listeners on 127.0.0.1 and ::1.

TCP connect (socket, socket.create_connection, asyncio.open_connection),
UDP sendto and connect+send, a raw and a packet socket, a netlink socket,
DNS resolution, and urllib/http.client. The test's listeners must see nothing;
prints ESCAPED if a connection or send succeeds.
"""

import asyncio
import http.client
import socket
import threading
import urllib.request

from fastapi import FastAPI, Request

TCP_PORT = int("@@TCP_PORT@@")
UDP_PORT = int("@@UDP_PORT@@")


def attempt(what, fn):
    try:
        fn()
    except BaseException as exc:
        print("REFUSED", what, type(exc).__name__, str(exc)[:100])
    else:
        print("ESCAPED", what)


def tcp():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(1)
    s.connect(("127.0.0.1", TCP_PORT))
    s.sendall(b"pwned")


def udp():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(b"pwned", ("127.0.0.1", UDP_PORT))


def udp_connected():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.connect(("127.0.0.1", UDP_PORT))
    s.send(b"pwned")


async def asyncio_tcp():
    _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", TCP_PORT), 1)
    writer.write(b"pwned")
    await writer.drain()


attempt("tcp", tcp)
attempt("tcp6", lambda: socket.create_connection(("::1", TCP_PORT), timeout=1))
attempt("create_connection", lambda: socket.create_connection(("127.0.0.1", TCP_PORT), timeout=1).send(b"x"))
def in_thread(coro_fn):
    errors = []

    def run():
        try:
            asyncio.run(coro_fn())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


attempt("asyncio.open_connection", lambda: in_thread(asyncio_tcp))
attempt("udp", udp)
attempt("udp-connected", udp_connected)
attempt("raw", lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP))
attempt("packet", lambda: socket.socket(socket.AF_PACKET, socket.SOCK_RAW))
attempt("netlink", lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0))
attempt("dns", lambda: socket.getaddrinfo("example.com", 80))
attempt("urllib", lambda: urllib.request.urlopen(f"http://127.0.0.1:{TCP_PORT}/", timeout=1))
attempt("http.client", lambda: http.client.HTTPConnection("127.0.0.1", TCP_PORT, timeout=1).request("GET", "/"))

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
