"""Escape the audit hook by swapping the code of the functions it relies on.

The hook's helpers (guard._within, _resolve, _real_path, _may_read) are
module-level functions it holds as defaults. It tries to give them new
``__code__`` / ``__defaults__`` (by assignment, by setattr, through the
FunctionType descriptors, and object.__setattr__), to replace posix.lstat
and os.path.realpath, and to add an audit hook of its own that swallows
events. Then it checks whether a refused operation (gc.get_objects, importing
ctypes, reading a hidden file) now works. Prints ESCAPED if it does.
"""

import gc
import importlib
import os
import posix
import sys
import types

from fastapi import FastAPI, Request

guard = sys.modules["loopterm.sandbox.guard"]
TASK_VALIDATION = "@@TASK_VALIDATION@@"
yes = (lambda *a, **k: True).__code__


def attempt(what, fn):
    try:
        fn()
    except BaseException as exc:
        print("REFUSED", what, type(exc).__name__, str(exc)[:100])
    else:
        print("SWAPPED", what)


for name in ("_within", "_may_read", "_resolve", "_real_path", "make_hook", "install"):
    fn = getattr(guard, name)
    attempt(f"{name}.__code__ =", lambda f=fn: setattr(f, "__code__", yes))
    attempt(f"{name} code descriptor", lambda f=fn: types.FunctionType.__code__.__set__(f, yes))
    attempt(f"{name} object.__setattr__", lambda f=fn: object.__setattr__(f, "__code__", yes))
    attempt(f"{name}.__defaults__ =", lambda f=fn: setattr(f, "__defaults__", None))
    attempt(f"{name}.__kwdefaults__ =", lambda f=fn: setattr(f, "__kwdefaults__", {}))
attempt("posix.lstat", lambda: setattr(posix, "lstat", lambda p: os.stat("/")))
attempt("os.path.realpath", lambda: setattr(os.path, "realpath", lambda p, **k: os.getcwd()))
attempt("guard.DENY_EVENTS", lambda: setattr(guard, "DENY_EVENTS", frozenset()))
attempt("own audit hook", lambda: sys.addaudithook(lambda event, args: None))


def check(what, fn):
    try:
        fn()
    except BaseException as exc:
        print("STILL REFUSED", what, type(exc).__name__)
    else:
        print("ESCAPED", what, "works after the swaps")


check("gc.get_objects", gc.get_objects)
check("import ctypes", lambda: importlib.import_module("ctypes").CDLL(None))
check("read hidden checks.py", lambda: open(f"{TASK_VALIDATION}/checks.py").read())
def fork():
    if os.fork() == 0:
        os._exit(0)


check("fork", fork)

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
