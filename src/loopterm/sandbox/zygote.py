"""The warm process: holds libraries only, forks one locked-down candidate process per request.

Run as ``python -m loopterm.sandbox.zygote <fd>`` by the check runner (its
config, the paths to hide, is the first datagram on that socket), with a
scrubbed environment in a fresh temp folder. It imports FastAPI, pydantic,
starlette, httpx and the common stdlib modules, warms them with requests to a
small app of its own, freezes the heap (so forks share it), then serves its
parent on one SOCK_SEQPACKET socket (fd ``<fd>``). It never sees a suite, a
check, the reference, a candidate's source or its output: the runner sends
the source to the candidate process directly, so a candidate reading its own
memory finds nothing of anyone else's.

runner -> warm process (one datagram each; ``spawn`` carries three fds: the
candidate's socket, the write end of its output pipe, the write end of its
"where does it hang" pipe)::

    {"op": "spawn", "job": 7, "limits": {...Limits}}
    {"op": "signal", "job": 7, "sig": 9}

warm process -> runner::

    {"t": "ready", "pid": 123, "landlock_abi": 7, "seccomp": true}
    {"t": "spawned", "job": 7, "pid": 456} | {"t": "spawn_failed", "job": 7, "error": "..."}
    {"t": "exit", "job": 7, "status": 9}

A signal goes to the child's whole process group. A child that exits is
reaped, whatever it left in its group is killed and its folder removed before
``exit`` is sent. EOF on the socket means the runner is gone: every child is
killed (each also dies with this process: PR_SET_PDEATHSIG) and it exits.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import selectors
import shutil
import signal
import socket
import sys
import tempfile
import threading
from dataclasses import dataclass
from typing import Any

from loopterm.sandbox import child
from loopterm.sandbox.limits import Limits
from loopterm.sandbox.policy import Policy

# What a candidate typically imports, loaded once here so each fork starts warm.
PRELOAD = (
    "asyncio",
    "collections",
    "contextlib",
    "copy",
    "dataclasses",
    "datetime",
    "decimal",
    "enum",
    "functools",
    "hashlib",
    "http",
    "itertools",
    "json",
    "logging",
    "math",
    "operator",
    "random",
    "re",
    "secrets",
    "string",
    "threading",
    "time",
    "typing",
    "typing_extensions",
    "uuid",
    "zoneinfo",
    "base64",
    "email.utils",
    "fractions",
    "statistics",
    "traceback",
    "weakref",
    "pydantic",
    "pydantic.fields",
    "pydantic_core",
    "starlette",
    "starlette.applications",
    "starlette.requests",
    "starlette.responses",
    "starlette.exceptions",
    "starlette.middleware",
    "starlette.routing",
    "starlette.status",
    "fastapi",
    "fastapi.responses",
    "fastapi.exceptions",
    "fastapi.encoders",
    "fastapi.middleware",
    "fastapi.routing",
    "httpx",
    "anyio",
    "anyio._backends._asyncio",
    "anyio.to_thread",
)


def _preload() -> None:
    import importlib

    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def _warm_up() -> None:
    """Requests through a small app of our own: fills FastAPI's, starlette's and pydantic's lazy caches.

    It uses what a typical candidate uses (enums, literals, decimals, nested
    and optional models, validators, path and query parameters, exception
    handlers, raw bodies, custom responses), so the first load and the first
    requests of each forked candidate find those code paths warm. It is our
    own code: nothing of any task is loaded here.
    """
    import asyncio
    import enum
    from decimal import Decimal
    from typing import Literal

    from fastapi import FastAPI, HTTPException, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response
    from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

    from loopterm.sandbox.direct import asgi_exchange

    class Colour(str, enum.Enum):  # noqa: UP042 (what candidates write)
        RED = "RED"
        BLUE = "BLUE"

    class Part(BaseModel):
        model_config = ConfigDict(extra="forbid")
        sku: str = Field(min_length=1, max_length=64)
        quantity: int = Field(ge=1)
        price: Decimal = Field(ge=0)
        share: float = Field(default=0, ge=0, le=100)

        @field_validator("sku")
        @classmethod
        def strip(cls, value: str) -> str:
            return value.strip()

    class Order(BaseModel):
        customer: str
        colour: Colour
        kind: Literal["a", "b"] = "a"
        parts: list[Part] = Field(min_length=1, max_length=100)
        note: str | None = None

        @model_validator(mode="after")
        def check(self) -> Order:
            return self

    app = FastAPI()

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": e.get("msg")} for e in exc.errors()]
        return JSONResponse({"errors": errors}, status_code=422, media_type="application/problem+json")

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)

    @app.post("/orders", status_code=201)
    async def create(order: Order) -> JSONResponse:
        body = order.model_dump(mode="json")
        return JSONResponse(body, status_code=201, headers={"Location": "/orders/1"})

    @app.post("/raw")
    async def raw(request: Request) -> Response:
        data = await request.body()
        if request.headers.get("content-type") != "application/json":
            raise HTTPException(status_code=415, detail="unsupported")
        return Response(content=data, media_type="application/json")

    @app.get("/orders/{order_id}")
    async def get(order_id: str, colour: Colour | None = None) -> dict[str, Any]:
        if order_id == "missing":
            raise HTTPException(status_code=404, detail="not found")
        return {"id": order_id, "colour": colour}

    def scope(method: str, path: str, query: str = "", ctype: str = "application/json") -> dict[str, Any]:
        return {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "headers": [(b"host", b"warm"), (b"content-type", ctype.encode())],
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "server": ("warm", None),
            "client": ("127.0.0.1", 123),
            "root_path": "",
        }

    order = b'{"customer": "c", "colour": "RED", "parts": [{"sku": " a ", "quantity": 2, "price": 1.5}], "note": null}'

    exchange = asgi_exchange(app)

    async def go() -> None:
        await exchange(scope("POST", "/orders"), order)
        await exchange(scope("POST", "/orders"), b'{"customer": 1, "colour": "X", "parts": []}')
        await exchange(scope("POST", "/orders"), b"{not json")
        await exchange(scope("POST", "/raw", ctype="text/plain"), b"x")
        await exchange(scope("POST", "/raw"), b"{}")
        await exchange(scope("GET", "/orders/1", "colour=BLUE"), b"")
        await exchange(scope("GET", "/orders/missing"), b"")
        await exchange(scope("GET", "/nowhere"), b"")
        await exchange(scope("DELETE", "/orders"), b"")

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(go())
    finally:
        loop.close()
        asyncio.set_event_loop(None)


MAX_MESSAGE = 64 * 1024


@dataclass
class Job:
    id: int
    pid: int
    workdir: str


class Zygote:
    def __init__(self, ctrl: socket.socket, policy: Policy, landlock_abi: int, root: str) -> None:
        self.ctrl = ctrl
        self.policy = policy
        self.landlock_abi = landlock_abi
        self.root = root
        self.jobs: dict[int, Job] = {}
        self.sel = selectors.DefaultSelector()
        self.running = True

    def send(self, message: dict[str, Any]) -> None:
        self.ctrl.send(json.dumps(message, separators=(",", ":")).encode())

    def serve(self) -> None:
        wake_r, wake_w = os.pipe()
        for fd in (wake_r, wake_w):
            os.set_blocking(fd, False)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)  # the wake-up fd does the work
        self.sel.register(self.ctrl, selectors.EVENT_READ, "ctrl")
        self.sel.register(wake_r, selectors.EVENT_READ, "wake")
        while self.running:
            for key, _ in self.sel.select(None):
                if key.data == "ctrl":
                    self._request()
                else:
                    with contextlib.suppress(BlockingIOError):
                        while os.read(wake_r, 4096):
                            pass
            self._reap()
        for job in list(self.jobs.values()):
            self._signal(job, signal.SIGKILL)
        for job in list(self.jobs.values()):
            with contextlib.suppress(ChildProcessError):
                os.waitpid(job.pid, 0)
            shutil.rmtree(job.workdir, ignore_errors=True)

    def _request(self) -> None:
        try:
            data, fds, _, _ = socket.recv_fds(self.ctrl, MAX_MESSAGE, 8)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data, fds = b"", []
        if not data:  # the runner is gone: stop everything
            for fd in fds:
                os.close(fd)
            self.running = False
            return
        message = json.loads(data)
        op = message.get("op")
        if op == "spawn" and len(fds) == 3:
            self._spawn(int(message["job"]), Limits.model_validate(message["limits"]), fds)
            return
        for fd in fds:
            os.close(fd)
        if op == "signal":
            job = self.jobs.get(int(message["job"]))
            if job is not None:
                self._signal(job, int(message["sig"]))

    def _spawn(self, job_id: int, limits: Limits, fds: list[int]) -> None:
        workdir = tempfile.mkdtemp(prefix=f"job{job_id}-", dir=self.root)
        try:
            pid = os.fork()
        except OSError as exc:
            for fd in fds:
                os.close(fd)
            shutil.rmtree(workdir, ignore_errors=True)
            self.send({"t": "spawn_failed", "job": job_id, "error": f"could not start a process: {exc.strerror}"})
            return
        if pid == 0:  # the child: never returns
            self.jobs.clear()  # its copy of the table would name the other candidates' pids and folders
            child.main(fds[0], fds[1], fds[2], limits, self.policy, workdir, self.landlock_abi)
        for fd in fds:
            os.close(fd)
        self.jobs[job_id] = Job(job_id, pid, workdir)
        self.send({"t": "spawned", "job": job_id, "pid": pid})

    @staticmethod
    def _signal(job: Job, sig: int) -> None:
        # The child is not reaped yet, so its pid still names it and its group.
        # Both: right after the fork it may not have called setsid() yet.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(job.pid, sig)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(job.pid, sig)

    def _reap(self) -> None:
        for job in list(self.jobs.values()):
            try:
                # WNOWAIT: learn that it exited without freeing its pid, so
                # killing its group below cannot hit a recycled pid.
                if os.waitid(os.P_PID, job.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
                    continue
            except ChildProcessError:
                status = 0
            else:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(job.pid, signal.SIGKILL)  # anything it left behind in its group
                try:
                    _, status = os.waitpid(job.pid, 0)
                except ChildProcessError:
                    status = 0
            del self.jobs[job.id]
            shutil.rmtree(job.workdir, ignore_errors=True)
            self.send({"t": "exit", "job": job.id, "status": status})


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the engine; EOF stops us
    ctrl = socket.socket(fileno=int(argv[0]))
    # The config comes on the socket, not the command line: a candidate can read its
    # /proc/self/cmdline, and the config names the paths it must not know.
    config = json.loads(ctrl.recv(MAX_MESSAGE) or b"{}")
    root = os.getcwd()
    sys.path[:] = [p for p in sys.path if p not in ("", root)]
    from loopterm.sandbox import landlock, seccomp, serve  # noqa: F401  (serve: loaded before forks)
    from loopterm.sandbox.policy import base_policy

    # Library code printing at import must not reach anyone.
    with contextlib.redirect_stdout(sys.stderr):
        _preload()
        _warm_up()
    policy = base_policy(exclude=(root, *config.get("hidden", ())))
    abi = landlock.abi_version()
    if threading.active_count() > 1:  # forking now could copy a lock some thread holds
        print(
            f"loopterm sandbox: warning: {threading.active_count() - 1} thread(s) started while warming "
            "up; forks may deadlock",
            file=sys.stderr,
        )
    gc.collect()
    gc.freeze()  # keep the warm heap out of the collector so forks share its pages
    zygote = Zygote(ctrl, policy, abi, root)
    zygote.send({"t": "ready", "pid": os.getpid(), "landlock_abi": abi, "seccomp": seccomp.supported()})
    with contextlib.suppress(BrokenPipeError, ConnectionError):
        zygote.serve()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
