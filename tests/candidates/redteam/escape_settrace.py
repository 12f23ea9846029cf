"""Escape the audit hook with tracing: sys.settrace, sys.setprofile, threading.settrace, frame.f_trace.

A trace function could rewrite the locals of the hook's frame while it runs.
It tries each way to install one (including setting f_trace on a live frame
and tracing a new thread), then runs code that would trigger it. Prints
ESCAPED if its tracer is ever called.
"""

import sys
import threading

from fastapi import FastAPI, Request

called = []


def tracer(frame, event, arg):
    called.append(event)
    return tracer


def attempt(what, fn):
    try:
        fn()
    except BaseException as exc:
        print("REFUSED", what, type(exc).__name__, str(exc)[:100])
    else:
        print("INSTALLED?", what)


attempt("sys.settrace", lambda: sys.settrace(tracer))
attempt("sys.setprofile", lambda: sys.setprofile(tracer))
attempt("f_trace", lambda: setattr(sys._getframe(), "f_trace", tracer))
attempt("f_trace_opcodes", lambda: setattr(sys._getframe(), "f_trace_opcodes", True))
attempt("threading.settrace", lambda: threading.settrace(tracer))
attempt("threading.setprofile", lambda: threading.setprofile(tracer))
thread = threading.Thread(target=lambda: sum(range(10)))
thread.start()
thread.join()
sum(range(10))
(lambda: None)()
if called:
    print("ESCAPED a tracer ran:", sorted(set(called)))

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
