"""Reach the suite through sys.modules: anything the warm process or the harness left loaded.

Lists every loopterm module in the process, and looks through every module's
attributes (and one level into classes, dicts, lists and tuples) for an
object made by the suite, the task loader or the check runner (a Suite, a
Check, a check function, a Task, a Validation...), a function from a checks
or reference file, the text of a suite, or another candidate's module.
Prints REACHED for each such object.
"""

import sys
import types

from fastapi import FastAPI, Request

HARNESS = ("loopterm.suite", "loopterm.tasks", "loopterm.sandbox.checkrunner", "loopterm.sandbox.runner",
           "loopterm.sandbox.worker", "loopterm.sandbox.remote", "loopterm.sandbox.results", "loopterm.loop")
TASK_FILES = ("checks.py", "reference.py", "faults.py", "helpers.py")
NEEDLE = "SUITE" + ".check("  # built here, so its own source never holds it whole
print("LOOPTERM MODULES", sorted(name for name in sys.modules if name.startswith("loopterm")))


def suspicious(obj) -> str | None:
    module = getattr(type(obj), "__module__", "") or ""
    if module.startswith(HARNESS) or module.split(".")[0] in ("checks", "reference", "faults", "helpers"):
        return f"{module}.{type(obj).__name__}"
    if isinstance(obj, types.FunctionType) and obj.__code__.co_filename.rpartition("/")[2] in TASK_FILES:
        return f"function from {obj.__code__.co_filename}"
    if isinstance(obj, str) and NEEDLE in obj:
        return "a suite's source text"
    return None


for name, module in list(sys.modules.items()):
    if module is None or name == __name__:
        continue
    if name.startswith("candidate_"):
        print("REACHED another candidate module", name)
    if name.split(".")[0] in ("checks", "reference", "faults", "helpers") or name.startswith(HARNESS):
        print("REACHED module", name)
    try:
        items = list(vars(module).items())
    except TypeError:
        continue
    for attr, value in items:
        inner = [value]
        if isinstance(value, (list, tuple, set, frozenset)):
            inner += list(value)[:1000]
        elif isinstance(value, dict):
            inner += list(value.values())[:1000]
        elif isinstance(value, type):
            try:
                inner += list(vars(value).values())
            except TypeError:
                pass
        for obj in inner:
            what = suspicious(obj)
            if what:
                print("REACHED", what, "in", f"{name}.{attr}")

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
