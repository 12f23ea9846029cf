"""Escape by changing the scheduling of the processes around it: priority, CPU affinity, policy.

On the warm process (its parent), the check runner and the engine it calls
setpriority (to 19, by pid, by process group), sched_setaffinity (to one
CPU), sched_setscheduler (SCHED_IDLE / SCHED_BATCH) and sched_setparam, and
os.nice on itself (allowed: 0 means itself). The test reads each target's
priority, affinity and policy before and after; prints ESCAPED on success.
"""

import os

from fastapi import FastAPI, Request

TARGETS = {"zygote": os.getppid(), "runner": int("@@RUNNER_PID@@"), "engine": int("@@ENGINE_PID@@")}


def attempt(what, fn):
    try:
        fn()
    except BaseException as exc:
        print("REFUSED", what, type(exc).__name__, str(exc)[:100])
    else:
        print("ESCAPED", what)


one_cpu = {min(os.sched_getaffinity(0))}
for name, pid in TARGETS.items():
    attempt(f"setpriority {name}", lambda p=pid: os.setpriority(os.PRIO_PROCESS, p, 19))
    attempt(f"setpriority pgrp {name}", lambda p=pid: os.setpriority(os.PRIO_PGRP, p, 19))
    attempt(f"sched_setaffinity {name}", lambda p=pid: os.sched_setaffinity(p, one_cpu))
    attempt(f"sched_setscheduler idle {name}",
            lambda p=pid: os.sched_setscheduler(p, os.SCHED_IDLE, os.sched_param(0)))
    attempt(f"sched_setscheduler batch {name}",
            lambda p=pid: os.sched_setscheduler(p, os.SCHED_BATCH, os.sched_param(0)))
    attempt(f"sched_setparam {name}", lambda p=pid: os.sched_setparam(p, os.sched_param(0)))
os.nice(5)  # itself: allowed
print("ALLOWED nice on itself ->", os.getpriority(os.PRIO_PROCESS, 0))

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
