"""Escape its folder by writing outside it, every way there is.

Targets a folder outside the sandbox (the test's), the sandbox's own root
(beside every job folder), /tmp, /dev/shm and the repository's tests folder.
Ways: open("w"/"x"/"a"), os.open(O_CREAT), os.mkdir, a symlink made inside
pointing out, a hard link, os.rename/os.replace out, shutil.copy, sqlite3
(ATTACH creates a file from C, no audit event), O_TMPFILE then a link,
"../" and /proc/self/cwd/.. paths, and a symlink swapped under a running
open() (a race against the audit hook's path check: the kernel's Landlock
must still refuse). Prints ESCAPED for any file that appears.
"""

import os
import shutil
import sqlite3
import threading

from fastapi import FastAPI, Request

TARGET_DIR = "@@TARGET_DIR@@"
REPO = "@@REPO@@"
ROOT = os.path.dirname(os.getcwd())
TARGETS = [f"{TARGET_DIR}/pwned-{n}" for n in range(12)]
OTHERS = [f"{ROOT}/pwned-root", "/tmp/loopterm-redteam-pwned", "/dev/shm/loopterm-redteam-pwned",
          f"{REPO}/tests/candidates/redteam/PWNED"]


def attempt(what, fn, path):
    try:
        fn(path)
    except BaseException as exc:
        print("REFUSED", what, type(exc).__name__, str(exc)[:100])
    if os.path.lexists(path):
        print("ESCAPED", what, path)


with open("inside.txt", "w") as f:
    f.write("pwned")
attempt("open-w", lambda p: open(p, "w").write("pwned"), TARGETS[0])
attempt("open-x", lambda p: open(p, "x").write("pwned"), TARGETS[1])
attempt("os.open", lambda p: os.write(os.open(p, os.O_CREAT | os.O_WRONLY, 0o644), b"pwned"), TARGETS[2])
attempt("mkdir", os.mkdir, TARGETS[3])
attempt("symlink-out", lambda p: (os.symlink(p, "out-link"), open("out-link", "w").write("pwned")), TARGETS[4])
attempt("hardlink", lambda p: os.link("inside.txt", p), TARGETS[5])
attempt("rename", lambda p: os.rename("inside.txt", p), TARGETS[6])
attempt("shutil.copy", lambda p: shutil.copy("inside.txt", p), TARGETS[7])


def by_sqlite(path):
    con = sqlite3.connect(":memory:")
    con.execute("ATTACH DATABASE ? AS x", (path,))
    con.execute("CREATE TABLE x.t (a)")
    con.commit()


attempt("sqlite-attach", by_sqlite, TARGETS[8])
attempt("dotdot", lambda p: open("../" * 20 + p.lstrip("/"), "w").write("pwned"), TARGETS[9])
attempt("proc-cwd", lambda p: open("/proc/self/cwd/" + "../" * 20 + p.lstrip("/"), "w").write("pwned"), TARGETS[10])


def tmpfile_link(path):
    fd = os.open(".", os.O_TMPFILE | os.O_WRONLY, 0o644)
    os.write(fd, b"pwned")
    os.link(f"/proc/self/fd/{fd}", path)


attempt("O_TMPFILE+link", tmpfile_link, TARGETS[11])
for path in OTHERS:
    attempt("open-w", lambda p: open(p, "w").write("pwned"), path)


def race(path):
    """Swap a symlink between the hook's check and the open: the hook can be raced, the kernel cannot."""
    open("inside-a", "w").close()
    os.symlink("inside-a", "safe")
    os.symlink(path, "evil")
    stop = threading.Event()

    def swapper():
        while not stop.is_set():
            try:
                os.symlink("inside-a", "tmp-safe")
                os.replace("tmp-safe", "swap")
                os.symlink(path, "tmp-evil")
                os.replace("tmp-evil", "swap")
            except OSError:
                pass

    threading.Thread(target=swapper, daemon=True).start()
    raced = 0
    try:
        for _ in range(3000):
            try:
                with open("swap", "a") as f:
                    f.write("x")
            except PermissionError as exc:
                if "loopterm sandbox" not in str(exc):
                    raced += 1  # past the hook: only the kernel said no
            except OSError:
                pass
    finally:
        stop.set()
    print("INFO symlink race: the audit hook was passed", raced, "times")


attempt("symlink-race", race, f"{TARGET_DIR}/pwned-race")

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo(request: Request):
    return {"echo": "unfinished"}
