"""Escape through raw system calls: ctypes, then ptrace and process_vm_readv on the warm process.

``import ctypes`` (the warm process already loaded it, so the import itself
succeeds), then any foreign call: CDLL, pythonapi, string_at, memmove, and
with them process_vm_readv and ptrace(PTRACE_ATTACH) on its parent. Prints
ESCAPED for a foreign call that runs.
"""

import importlib
import os
import sys

from fastapi import FastAPI, Request

PARENT = os.getppid()


def attempt(what, fn):
    try:
        result = fn()
    except BaseException as exc:
        print("REFUSED", what, type(exc).__name__, str(exc)[:100])
    else:
        print("ESCAPED", what, repr(result)[:80])


for name in ("ctypes", "_ctypes"):
    try:
        importlib.import_module(name)  # the warm process loaded it: the module object alone is no power
        print("IMPORTED", name, "(already in sys.modules)")
    except BaseException as exc:
        print("REFUSED import", name, type(exc).__name__)
ctypes = sys.modules.get("ctypes")
if ctypes is not None:
    attempt("CDLL(None)", lambda: ctypes.CDLL(None))
    attempt("pythonapi.Py_GetVersion", lambda: ctypes.pythonapi.Py_GetVersion())
    attempt("string_at", lambda: ctypes.string_at(id(0), 8))
    attempt("memmove", lambda: ctypes.memmove(ctypes.create_string_buffer(8), id(0), 8))

    def vm_readv():
        libc = ctypes.CDLL(None, use_errno=True)

        class IOVec(ctypes.Structure):
            _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]

        buf = ctypes.create_string_buffer(64)
        local, remote = IOVec(ctypes.addressof(buf), 64), IOVec(0x400000, 64)
        n = libc.process_vm_readv(PARENT, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
        if n < 0:
            raise OSError(ctypes.get_errno(), "process_vm_readv")
        return n

    def ptrace():
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.ptrace(16, PARENT, 0, 0) != 0:  # PTRACE_ATTACH
            raise OSError(ctypes.get_errno(), "ptrace")

    attempt("process_vm_readv", vm_readv)
    attempt("ptrace attach", ptrace)

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
