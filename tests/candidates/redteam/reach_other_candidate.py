"""Reach another lane's candidate running at the same time: its folder, its memory, its process.

It learns the other jobs from the warm process's frames still on its stack
(Zygote.jobs: pid and folder of every candidate started before it) and by
trying the pids just around its parent's. For each it tries the folder on the
host path, /proc/<pid>/cwd and /proc/<pid>/root (which would reach the other
candidate's private tmpfs), /proc/<pid>/mem and environ, a signal 0, and
renicing it. Prints REACHED with whatever it read.
"""

import os
import sys
import time

from fastapi import FastAPI, Request

targets = {}
frame = sys._getframe()
while frame is not None:
    zygote = frame.f_locals.get("self")
    if type(zygote).__name__ == "Zygote":
        targets.update({job.pid: job.workdir for job in zygote.jobs.values()})
    frame = frame.f_back
me, parent = os.getpid(), os.getppid()
for pid in range(parent - 5, parent + 60):
    if pid not in (me, parent):
        targets.setdefault(pid, None)
print("TARGETS", {p: w for p, w in targets.items() if w})


def attempt(what, fn):
    try:
        result = fn()
    except BaseException:
        return
    print("REACHED", what, repr(result)[:200])


end = time.monotonic() + 1.0
while time.monotonic() < end:
    for pid, workdir in targets.items():
        if workdir:
            attempt(f"host folder {workdir}", lambda w=workdir: os.listdir(w))
            attempt(f"host secret {workdir}", lambda w=workdir: open(f"{w}/secret.txt").read())
        attempt(f"cwd of {pid}", lambda p=pid: open(f"/proc/{p}/cwd/secret.txt").read())
        if workdir:
            attempt(f"root of {pid}", lambda p=pid, w=workdir: open(f"/proc/{p}/root{w}/secret.txt").read())
        attempt(f"mem of {pid}", lambda p=pid: open(f"/proc/{p}/mem", "rb").read(1))
        attempt(f"environ of {pid}", lambda p=pid: open(f"/proc/{p}/environ", "rb").read())
        attempt(f"signal 0 to {pid}", lambda p=pid: os.kill(p, 0))
        if workdir:  # only a known candidate: never renice a stranger's process
            attempt(f"renice {pid}", lambda p=pid: os.setpriority(os.PRIO_PROCESS, p, 10))
    time.sleep(0.05)

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
