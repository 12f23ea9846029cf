"""Reach the suite, the reference and the engine's files by path: every way Python opens a file.

Targets: the task's validation/ and spec/ folders and their files, the
repository's validation/, spec/ and src/loopterm/, the trace (cache) and
config folders, the sandbox's own root and its other job folders, and the
repository itself. Ways: open, os.open, io.open_code, pathlib, os.listdir,
os.scandir, os.walk, a symlink made in its own folder, a hard link, sqlite3's
own C-level open (ATTACH), and "/proc/self/cwd/.." / "/proc/self/root" paths.
Prints REACHED for every read or listing that works.
"""

import io
import os
import pathlib
import sqlite3

from fastapi import FastAPI, Request

TASK_VALIDATION = "@@TASK_VALIDATION@@"
TASK_SPEC = "@@TASK_SPEC@@"
REPO = "@@REPO@@"
CACHE = "@@CACHE_DIR@@"
CONFIG = "@@CONFIG_DIR@@"
ROOT = os.path.dirname(os.getcwd())  # the sandbox's folder: every job's folder is in it

FILES = [f"{TASK_VALIDATION}/checks.py", f"{TASK_VALIDATION}/reference.py", f"{TASK_SPEC}/rules.md",
         f"{REPO}/validation/quote-approval/reference.py", f"{REPO}/validation/quote-approval/checks.py",
         f"{REPO}/spec/quote-approval/openapi.yaml", f"{REPO}/src/loopterm/suite.py",
         f"{REPO}/src/loopterm/sandbox/checkrunner.py", f"{REPO}/README.md", f"{REPO}/pyproject.toml",
         f"{CONFIG}/lanes.toml", f"/proc/self/root{TASK_VALIDATION}/checks.py",
         f"/proc/self/cwd/../../{REPO.lstrip('/')}/README.md"]
FOLDERS = [TASK_VALIDATION, TASK_SPEC, f"{REPO}/validation", f"{REPO}/spec", f"{REPO}/src/loopterm", REPO,
           f"{REPO}/tests", CACHE, f"{CACHE}/traces", CONFIG, ROOT, "/tmp", "/root"]


def attempt(what, fn):
    try:
        result = fn()
    except BaseException as exc:
        print("REFUSED", what, type(exc).__name__)
        return
    print("REACHED", what, repr(result)[:80])


def through_symlink(path):
    link = f"link{abs(hash(path))}"
    os.symlink(path, link)
    with open(link, "rb") as f:
        return len(f.read())


def through_hardlink(path):
    name = f"hard{abs(hash(path))}"
    os.link(path, name)
    with open(name, "rb") as f:
        return len(f.read())


def through_sqlite(path):
    con = sqlite3.connect(":memory:")
    con.execute("ATTACH DATABASE ? AS stolen", (path,))
    return con.execute("SELECT count(*) FROM stolen.sqlite_master").fetchall()


for path in FILES:
    attempt(f"open {path}", lambda p=path: len(open(p, "rb").read()))
    attempt(f"os.open {path}", lambda p=path: os.read(os.open(p, os.O_RDONLY), 64))
    attempt(f"open_code {path}", lambda p=path: io.open_code(p).read(64))
    attempt(f"pathlib {path}", lambda p=path: pathlib.Path(p).read_bytes()[:64])
    attempt(f"symlink {path}", lambda p=path: through_symlink(p))
    attempt(f"hardlink {path}", lambda p=path: through_hardlink(p))
    attempt(f"sqlite {path}", lambda p=path: through_sqlite(p))
for folder in FOLDERS:
    attempt(f"listdir {folder}", lambda f=folder: os.listdir(f))
    attempt(f"scandir {folder}", lambda f=folder: [e.name for e in os.scandir(f)])
    walked = [root for root, _, _ in os.walk(folder)]
    if walked:
        print("REACHED walk", folder, len(walked))

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
