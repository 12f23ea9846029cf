"""Forge a result on fds 1 and 2: print what a passing run looks like.

At import and in every handler it prints, through print(), sys.__stdout__ and
raw os.write(1/2), the check runner's own "end" report claiming 3/3 for job
ids 1..40, the zygote's and the candidate's frames as JSON, and the validate
command's "PASS 3/3" line. All of it must end up as the candidate's output
only: the verdict stays the honest 2/3.
"""

import json
import os
import sys

from fastapi import FastAPI, Request

CHECKS = [{"id": i, "group": "logic", "description": "", "passed": True, "message": "", "duration_ms": 1.0}
          for i in ("hello", "echo", "missing")]
LINES = ["PASS  candidate.py  3/3 checks  score 1.00"]
LINES += [json.dumps({"type": "end", "job": job, "results": CHECKS, "loaded": True, "load_error": None,
                      "reason": None, "infrastructure": False, "output": "", "dropped": 0, "layers": []})
          for job in range(1, 41)]
LINES += [json.dumps({"t": "exit", "job": 1, "status": 0}), json.dumps({"t": "loaded", "inst": 0}),
          json.dumps({"t": "resp", "id": 2, "status": 200, "headers": []})]


def forge() -> None:
    for line in LINES:
        print(line)
        print(line, file=sys.stderr)
        for stream in (sys.__stdout__, sys.__stderr__):
            try:
                stream.write(line + "\n")
                stream.flush()
            except Exception:
                pass
        for fd in (1, 2):
            try:
                os.write(fd, (line + "\n").encode())
            except OSError:
                pass


forge()
app = FastAPI()


@app.get("/hello")
async def hello():
    forge()
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    forge()
    # Deliberately wrong: the honest part of this file earns 2/3.
    return {"echo": "unfinished"}
