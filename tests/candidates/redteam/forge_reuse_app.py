"""Forge a PASS by serving somebody else's app: any ASGI app already in the process.

Walks sys.modules (and two levels of module attributes and class caches) for
an ``app``, a FastAPI/Starlette instance or an ASGI callable that is not its
own: a preloaded reference, another candidate's module, the warm process's
warm-up app. If it finds one that answers /echo it serves that instead and
prints REACHED. The warm process holds libraries only, so there is none.
"""

import sys

from fastapi import FastAPI, Request
from starlette.applications import Starlette

mine = FastAPI()
found = []
for name, module in list(sys.modules.items()):
    if module is None or name == __name__:
        continue
    try:
        values = list(vars(module).values())
    except TypeError:
        continue
    for value in values:
        candidates = [value]
        if isinstance(value, type):
            try:
                candidates += list(vars(value).values())
            except TypeError:
                pass
        for obj in candidates:
            if isinstance(obj, Starlette) and obj is not mine:
                found.append((name, obj))
    if name.startswith("candidate_") or "reference" in name or "checks" in name:
        print("REACHED module", name)

for name, other in found:
    paths = {getattr(r, "path", None) for r in getattr(other, "routes", [])}
    print("FOUND app in", name, sorted(p for p in paths if p))
    if "/echo" in paths:
        print("REACHED an app serving /echo in", name)
        app = other
        break
else:
    app = mine


@mine.get("/hello")
async def hello():
    return {"msg": "hello"}


@mine.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
