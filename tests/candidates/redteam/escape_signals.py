"""Escape by signalling the processes around it: the warm process, the check runner, the engine, everyone.

SIGKILL to the warm process (its parent) and the runner by os.kill, os.killpg,
and signal.pidfd_send_signal (after os.pidfd_open);
SIGUSR2 to the engine (the test counts what it receives); signal 0 (a probe
that sends nothing) to process -1 (every process) and to init. Prints
ESCAPED for any call the kernel accepts; the test checks that the runner and
the warm process are alive and that the engine got nothing.
"""

import os
import signal

from fastapi import FastAPI, Request

ZYGOTE = os.getppid()
RUNNER = int("@@RUNNER_PID@@")
ENGINE = int("@@ENGINE_PID@@")


def attempt(what, fn):
    try:
        fn()
    except BaseException as exc:
        print("REFUSED", what, type(exc).__name__, str(exc)[:100])
    else:
        print("ESCAPED", what)


for name, pid in (("zygote", ZYGOTE), ("runner", RUNNER)):
    attempt(f"kill {name}", lambda p=pid: os.kill(p, signal.SIGKILL))
    attempt(f"killpg {name}", lambda p=pid: os.killpg(p, signal.SIGKILL))
    attempt(f"killpg -{name}", lambda p=pid: os.kill(-p, signal.SIGKILL))
    attempt(f"pidfd {name}", lambda p=pid: signal.pidfd_send_signal(os.pidfd_open(p), signal.SIGKILL))
attempt("kill engine", lambda: os.kill(ENGINE, signal.SIGUSR2))
attempt("killpg engine", lambda: os.killpg(os.getpgid(ENGINE), signal.SIGUSR2))
attempt("kill -1 (probe)", lambda: os.kill(-1, 0))
attempt("kill init (probe)", lambda: os.kill(1, 0))
os.kill(0, 0)  # its own group: allowed (a probe)
print("ALLOWED signal 0 to its own group")
app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
