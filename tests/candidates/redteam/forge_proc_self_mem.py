"""Reach the suite through its own memory: read /proc/self/mem region by region.

The candidate process is a fork of the warm process, so its memory is what
that process held. It scans every readable mapping (up to 512 MiB) for text
only the suite or a reference holds (the mini suite's messages and its
SUITE line; the quote-approval suite's docstring), each split in two so its
own source never holds the whole needle. Prints REACHED on a hit.
"""

from fastapi import FastAPI, Request

NEEDLES = [("GET /hello: expected ", "msg hello, got"), ("SUITE = Sui", 'te("mini")'),
           ("The quote-approval suite: 47 ", "checks of a candidate"), ('SUITE = Suite("quote', '-approval"')]
LIMIT = 512 << 20


def scan() -> None:
    seen = 0
    with open("/proc/self/maps") as maps:
        regions = [line.split() for line in maps]
    with open("/proc/self/mem", "rb", buffering=0) as mem:
        for fields in regions:
            if "r" not in fields[1] or (len(fields) > 5 and fields[5].startswith("[v")):
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            pos = start
            while pos < end and seen < LIMIT:
                size = min(1 << 20, end - pos)
                try:
                    mem.seek(pos)
                    chunk = mem.read(size)
                except OSError:
                    break
                seen += len(chunk)
                for head, tail in NEEDLES:
                    at = chunk.find(head.encode())
                    while at != -1:
                        if chunk[at + len(head): at + len(head) + len(tail)] == tail.encode():
                            print("REACHED", head + "...", "at", hex(pos + at), fields[-1])
                            break
                        at = chunk.find(head.encode(), at + 1)
                pos += size
    print("SCANNED", seen >> 20, "MiB")


try:
    scan()
except Exception as exc:
    print("REFUSED /proc/self/mem", type(exc).__name__, exc)

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
