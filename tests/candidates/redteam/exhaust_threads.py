"""Exhaust processes and threads: start 1000 threads with the smallest stacks and keep them.

RLIMIT_NPROC caps the threads of a non-root candidate; the kernel does not
apply it to root, and the machine's pid space is shared by every process on
it. It prints COUNT <threads it got> and the error that stopped it, then
serves honestly with all of them still alive. The test checks that the
sandbox survives, the honest 2/3 stands, and COUNT against the thread budget
(Limits.threads); past it, it prints ESCAPED.
"""

import threading

from fastapi import FastAPI, Request

WANT = 1000
threading.stack_size(64 * 1024)
stop = threading.Event()
started, error = 0, None
try:
    for _ in range(WANT):
        threading.Thread(target=stop.wait, daemon=True).start()
        started += 1
except BaseException as exc:
    error = f"{type(exc).__name__}: {exc}"
print("COUNT", started, error)
BUDGET = int("@@THREADS@@")
if started > BUDGET:
    print("ESCAPED thread budget of", BUDGET, "with", started, "threads")

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
