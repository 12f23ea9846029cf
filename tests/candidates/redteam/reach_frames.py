"""Reach the suite through stack frames: its own stack down to the warm process's frames, and every thread's.

The candidate process was forked inside the warm process's serve loop, so its
stack still holds those frames (with their locals). It walks sys._getframe()
back to the bottom and sys._current_frames(), and looks in every frame's
locals and globals for an object of the suite, the task loader or the check
runner, or for a suite's or a reference's text (its own source, which the
loader's frames hold, does not count). It also reports what the warm
process's frames show (informational: its own state, no suite). Prints
REACHED on a hit.
"""

import sys

from fastapi import FastAPI, Request

HARNESS = ("loopterm.suite", "loopterm.tasks", "loopterm.sandbox.checkrunner", "loopterm.sandbox.runner",
           "loopterm.sandbox.worker", "loopterm.sandbox.remote", "loopterm.sandbox.results", "loopterm.loop")
NEEDLES = ("SUITE" + ".check(", "return await request" + ".json()")  # never whole in its own source


def look(where, mapping):
    for key, value in list(mapping.items()):
        module = getattr(type(value), "__module__", "") or ""
        if module.startswith(HARNESS):
            print("REACHED", module, type(value).__name__, "in", where, key)
        elif isinstance(value, (str, bytes)) and len(value) > 40:
            text = value if isinstance(value, str) else value.decode("latin-1")
            for needle in NEEDLES:
                if needle in text:
                    print("REACHED text with", repr(needle), "in", where, key, len(text))


frames = []
frame = sys._getframe()
while frame is not None:
    frames.append(frame)
    frame = frame.f_back
try:
    frames += list(sys._current_frames().values())
except BaseException as exc:
    print("REFUSED _current_frames", type(exc).__name__)
for f in frames:
    where = f"{f.f_code.co_filename}:{f.f_code.co_name}"
    print("FRAME", where, sorted(f.f_locals)[:12])
    look(where, f.f_locals)
    look(where + " globals", f.f_globals)
    zygote = f.f_locals.get("self")
    if type(zygote).__name__ == "Zygote":
        print("INFO the warm process's Zygote object: jobs", {k: (v.pid, v.workdir) for k, v in zygote.jobs.items()})

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
