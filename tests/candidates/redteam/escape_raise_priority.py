"""Escape its share of the machine: give itself a higher priority than the runner and the engine.

As root it may try nice -20 (setpriority on itself, "0 = itself" being
allowed) and the SCHED_FIFO / SCHED_RR real-time policies. A candidate that gets any of these
can starve the check runner, the engine and the other lanes on a small
machine (a real-time busy loop gets 95% of a CPU before anything else runs).
It only checks whether the change took, then puts itself back at once.
Prints ESCAPED when its priority went above the default.
"""

import os

from fastapi import FastAPI, Request


def attempt(what, change, check):
    try:
        change()
    except BaseException as exc:
        print("REFUSED", what, type(exc).__name__, str(exc)[:100])
        return
    try:
        if check():
            print("ESCAPED", what)
        else:
            print("REFUSED", what, "(no effect)")
    finally:
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))
        try:
            os.setpriority(os.PRIO_PROCESS, 0, 0)
        except OSError:
            pass


attempt("nice -20", lambda: os.setpriority(os.PRIO_PROCESS, 0, -20),
        lambda: os.getpriority(os.PRIO_PROCESS, 0) < 0)
attempt("os.nice(-10)", lambda: os.nice(-10), lambda: os.getpriority(os.PRIO_PROCESS, 0) < 0)
attempt("SCHED_FIFO", lambda: os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1)),
        lambda: os.sched_getscheduler(0) == os.SCHED_FIFO)
attempt("SCHED_RR", lambda: os.sched_setscheduler(0, os.SCHED_RR, os.sched_param(99)),
        lambda: os.sched_getscheduler(0) == os.SCHED_RR)

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
