"""Escape by starting another process: every way Python has, including those without an audit event.

os.fork, os.forkpty, pty.fork, os.posix_spawn, os.spawnv, os.system,
os.execv (replacing itself), subprocess, multiprocessing (fork and spawn),
_posixsubprocess.fork_exec (already loaded), os.register_at_fork + a
thread pool, and concurrent.futures.ProcessPoolExecutor. Prints ESCAPED
if a new process runs (it would write a file in its folder).
"""

import concurrent.futures
import importlib
import multiprocessing
import os
import pty
import subprocess
import sys

from fastapi import FastAPI, Request


def attempt(what, fn):
    try:
        fn()
    except BaseException as exc:
        print("REFUSED", what, type(exc).__name__, str(exc)[:100])
    else:
        print("ESCAPED", what)


def fork():
    pid = os.fork()
    if pid == 0:
        os._exit(0)


attempt("os.fork", fork)
attempt("os.forkpty", os.forkpty)
attempt("pty.fork", pty.fork)
attempt("posix_spawn", lambda: os.posix_spawn("/bin/true", ["true"], {}))
attempt("spawnv", lambda: os.spawnv(os.P_WAIT, "/bin/true", ["true"]))
attempt("system", lambda: os.system("true"))
attempt("subprocess", lambda: subprocess.run(["/bin/true"], check=True))
attempt("multiprocessing fork", lambda: multiprocessing.get_context("fork").Process(target=print).start())
attempt("multiprocessing spawn", lambda: multiprocessing.get_context("spawn").Process(target=print).start())
attempt("ProcessPoolExecutor",
        lambda: concurrent.futures.ProcessPoolExecutor(1).submit(os.getpid).result(timeout=0.5))
attempt("fork_exec (preloaded)", lambda: sys.modules["_posixsubprocess"].fork_exec(
    ["/bin/true"], [b"/bin/true"], True, (), None, None, -1, -1, -1, -1, -1, -1, -1, -1, False, False,
    None, None, None, -1, None, False))
attempt("fork_exec after a reload", lambda: (importlib.reload(sys.modules["_posixsubprocess"]),
                                            subprocess.run(["/bin/true"], check=True)))
attempt("execv (replace itself)", lambda: os.execv("/bin/true", ["true"]))

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
