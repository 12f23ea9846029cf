"""Reach the suite through the garbage collector and the type graph.

gc.get_objects / get_referrers / get_referents (refused by the audit hook),
gc.garbage, gc.callbacks, and a walk of object.__subclasses__() for any class
defined by the suite, the task loader, the check runner or a task's checks or
reference file. Prints REACHED when it finds one or when a heap walk is
allowed.
"""

import gc

from fastapi import FastAPI, Request

HARNESS = ("loopterm.suite", "loopterm.tasks", "loopterm.sandbox.checkrunner", "loopterm.sandbox.runner",
           "loopterm.sandbox.worker", "loopterm.sandbox.remote", "loopterm.sandbox.results", "loopterm.loop")


def attempt(what, fn):
    try:
        result = fn()
    except BaseException as exc:
        print("REFUSED", what, type(exc).__name__)
        return None
    print("REACHED", what, "allowed:", repr(result)[:60])
    return result


attempt("gc.get_objects", gc.get_objects)
attempt("gc.get_referrers", lambda: gc.get_referrers(FastAPI))
attempt("gc.get_referents", lambda: gc.get_referents(gc))
attempt("gc.get_objects(generation=2)", lambda: gc.get_objects(generation=2))
print("GARBAGE", len(gc.garbage), "CALLBACKS", len(gc.callbacks))

seen, todo = set(), [object]
while todo:
    cls = todo.pop()
    if id(cls) in seen:
        continue
    seen.add(id(cls))
    try:
        todo += cls.__subclasses__()
    except TypeError:
        todo += type.__subclasses__(cls)
    module = getattr(cls, "__module__", "") or ""
    if module.startswith(HARNESS) or module.split(".")[0] in ("checks", "reference", "faults", "helpers"):
        print("REACHED class", module, cls.__name__)
print("CLASSES", len(seen))

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
