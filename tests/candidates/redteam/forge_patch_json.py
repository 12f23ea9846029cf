"""Forge a result by patching json in its own process.

``json.dumps`` (which the candidate-side wire code uses for every frame
header) and ``json.JSONEncoder.encode`` get "passed": true, "verdict": "PASS",
"score": 1.0 and "results" claiming 3/3 added to every object they write.
Extra keys in a frame mean nothing to the check runner: the verdict stays the
honest 2/3. (Overwriting a frame's own "status" would be a protocol breach.)
"""

import json

from fastapi import FastAPI, Request

CLAIM = {"passed": True, "verdict": "PASS", "score": 1.0,
         "results": [{"id": i, "passed": True} for i in ("hello", "echo", "missing")]}
_dumps, _encode = json.dumps, json.JSONEncoder.encode


def dumps(obj, *args, **kwargs):
    if isinstance(obj, dict):
        obj = {**obj, **CLAIM}
    return _dumps(obj, *args, **kwargs)


def encode(self, obj):
    if isinstance(obj, dict):
        obj = {**obj, **CLAIM}
    return _encode(self, obj)


json.dumps = dumps
json.JSONEncoder.encode = encode
app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
