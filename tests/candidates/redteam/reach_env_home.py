"""Reach the engine's secrets and state: environment, home, the trace and config folders.

Prints its environment's names (a key or token there would be the engine's),
then tries the trace cache and config folders the engine uses (by their
LOOPTERM_* overrides as the test sets them, and the default ~/.cache/loopterm,
~/.config/loopterm), the real home's dotfiles and shell history, and
/proc/self/cmdline's neighbours. Prints REACHED for a secret-looking variable
or any file it reads there.
"""

import os

from fastapi import FastAPI, Request

print("ENV NAMES", sorted(os.environ))
for name, value in os.environ.items():
    if any(word in name.upper() for word in ("KEY", "TOKEN", "SECRET", "PASSWORD", "LOOPTERM")):
        print("REACHED env", name)
    if value.startswith("sk-"):
        print("REACHED env value of", name)
CACHE, CONFIG = "@@CACHE_DIR@@", "@@CONFIG_DIR@@"
places = [CACHE, CONFIG, f"{CACHE}/traces", "/root/.cache/loopterm", "/root/.config/loopterm", "/root",
          "/root/.bash_history", "/root/.ssh", "/root/.netrc", "/root/.config", "/home", "/etc/shadow",
          "/etc/hostname", "/etc/hosts", "/var/log"]
for place in places:
    try:
        if os.path.isdir(place):
            print("REACHED listed", place, os.listdir(place)[:5])
        else:
            with open(place, "rb") as f:
                print("REACHED read", place, len(f.read()))
    except Exception as exc:
        print("REFUSED", place, type(exc).__name__)

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
