"""Reach the suite, and forge a verdict, through other processes' /proc entries.

For the warm process, the check runner, the engine and init it tries to read
mem, environ, cmdline, maps, status, stack, io, their open files (fd/0..31),
their cwd/ and root/ (which reach any path), and to list task/ and fd/. Then
it tries to re-open the runner's fd 1, the pipe carrying its reports to the
engine, and write a forged "end" line for its own job (the job number is in
its folder's name) claiming every check passed. Only /proc/<its own pid> is
reachable; a success prints REACHED.
"""

import json
import os

from fastapi import FastAPI, Request

PIDS = {"zygote": os.getppid(), "runner": int("@@RUNNER_PID@@"), "engine": int("@@ENGINE_PID@@"), "init": 1}
REPO = "@@REPO@@"
FILES = ["mem", "environ", "cmdline", "maps", "status", "stack", "io", "cwd/README.md",
         f"root{REPO}/validation/quote-approval/reference.py", "root/etc/hostname"]
FILES += [f"fd/{n}" for n in range(32)]


for who, pid in PIDS.items():
    for name in FILES:
        path = f"/proc/{pid}/{name}"
        try:
            with open(path, "rb") as f:
                data = f.read(4096)
        except Exception as exc:
            kind = type(exc).__name__
            if kind not in ("FileNotFoundError",):
                print("REFUSED", who, name, kind)
            continue
        print("REACHED", who, path, len(data), "bytes")
    for folder in ("task", "fd", "cwd", "root"):
        try:
            names = os.listdir(f"/proc/{pid}/{folder}")
        except Exception:
            continue
        print("REACHED listed", who, folder, names[:5])

job = int(os.path.basename(os.getcwd()).split("-")[0].removeprefix("job") or 0)
checks = [{"id": i, "group": "logic", "description": "", "passed": True, "message": "", "duration_ms": 1.0}
          for i in ("hello", "echo", "missing")]
forged = json.dumps({"type": "end", "job": job, "results": checks, "loaded": True, "load_error": None,
                     "reason": None, "infrastructure": False, "output": "", "dropped": 0, "layers": []}) + "\n"
for fd in (1, 2):
    path = f"/proc/{PIDS['runner']}/fd/{fd}"
    try:
        with open(path, "w") as f:
            f.write(forged)
    except Exception as exc:
        print("REFUSED write", path, type(exc).__name__)
    else:
        print("REACHED wrote a forged report into", path)

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
