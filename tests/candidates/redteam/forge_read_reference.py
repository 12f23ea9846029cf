"""Reach the reference by reading it from disk, then exec it as its own app.

Tries the task's validation/<task>/reference.py (the path, as a model could
guess it from the prompt or /proc/self/cmdline), the repository's
validation/quote-approval/reference.py, and every validation/<task>/{reference,
checks,faults,helpers}.py and spec/<task>/* it can find under its import path
(site-packages, the stdlib, the source folder). Prints REACHED for each file it
can read; if it finds this task's reference it serves it (a forged PASS).
"""

import os
import sys

from fastapi import FastAPI, Request

TASK_VALIDATION = "@@TASK_VALIDATION@@"
TASK_SPEC = "@@TASK_SPEC@@"
REPO = "@@REPO@@"

guesses = [os.path.join(TASK_VALIDATION, "reference.py"), os.path.join(TASK_VALIDATION, "checks.py"),
           os.path.join(TASK_SPEC, "rules.md"), os.path.join(REPO, "validation/quote-approval/reference.py"),
           os.path.join(REPO, "spec/quote-approval/openapi.yaml"),
           os.path.join(REPO, "tests/candidates/task/validation/mini/reference.py")]
roots = set()
for entry in sys.path:
    for up in ("", "..", "../.."):
        roots.add(os.path.normpath(os.path.join(entry, up)))
for root in sorted(roots):
    for top in ("validation", "spec", "loopterm/_data/validation", "loopterm/_data/spec"):
        folder = os.path.join(root, top)
        try:
            tasks = os.listdir(folder)
        except Exception:
            continue
        for task in tasks:
            try:
                names = os.listdir(os.path.join(folder, task))
            except Exception:
                continue
            guesses += [os.path.join(folder, task, n) for n in names]

stolen = None
for path in dict.fromkeys(guesses):
    try:
        with open(path, "rb") as f:
            data = f.read()
    except Exception as exc:
        print("REFUSED", path, type(exc).__name__)
        continue
    print("REACHED read", path, len(data), "bytes")
    if path.endswith("reference.py") and b"/echo" in data and stolen is None:
        stolen = data.decode()

app = FastAPI()
if stolen is not None:
    space = {"__name__": "stolen_reference"}
    exec(compile(stolen, "stolen_reference.py", "exec"), space)
    app = space["app"]
    print("REACHED serving the stolen reference")


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
