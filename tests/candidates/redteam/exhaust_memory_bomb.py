"""Exhaust memory in every ordinary way: a list of 1 MiB blocks until MemoryError, then more from handlers.

At import it allocates 1 MiB blocks until MemoryError (the address-space
limit), frees half, prints HELD <MiB it got>, and keeps the rest; /echo then
asks for 2**40 bytes at once and for a million 1 MiB blocks. Only this
candidate's memory runs out; its honest answers still count.
"""

from fastapi import FastAPI, Request

blocks = []
try:
    while True:
        blocks.append(bytearray(1 << 20))
except MemoryError:
    pass
print("HELD", len(blocks), "MiB before MemoryError")
del blocks[len(blocks) // 2:]
app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    try:
        bytearray(1 << 40)
    except MemoryError:
        pass
    try:
        [bytes(1 << 20) for _ in range(1 << 20)]
    except MemoryError:
        pass
    return {"echo": "unfinished"}
