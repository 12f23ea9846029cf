"""The check runner's handle on the warm process (``zygote.py``): spawn, signal, learn of exits.

One SOCK_SEQPACKET socket, one JSON datagram a message; ``spawn`` carries the
candidate's three file descriptors (SCM_RIGHTS). If the warm process dies,
every pending spawn and exit fails with :class:`WarmProcessGone`, which the
runner reports as the sandbox's failure, never the candidate's.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import sys
from typing import Any

from loopterm.sandbox.limits import Limits


class WarmProcessGone(Exception):
    """The warm process died; every validation it was running is the sandbox's failure."""


class WarmProcess:
    """The runner's handle on the zygote: spawn, signal, and learn of exits."""

    def __init__(self, proc: asyncio.subprocess.Process, ctrl: socket.socket, ready: dict[str, Any]) -> None:
        self.proc = proc
        self.ctrl = ctrl
        self.ready = ready
        self.dead = False
        self._spawned: dict[int, asyncio.Future[int]] = {}
        self._exits: dict[int, asyncio.Future[int]] = {}
        self._reader = asyncio.create_task(self._read_loop())

    @classmethod
    async def start(cls, root: str, hidden: list[str]) -> WarmProcess:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "loopterm.sandbox.zygote",
                str(theirs.fileno()),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=None,  # the runner's stderr, which the engine keeps the tail of
                pass_fds=(theirs.fileno(),),
                cwd=root,
                start_new_session=True,
            )
        finally:
            theirs.close()
        ours.send(json.dumps({"hidden": hidden}).encode())
        ours.setblocking(False)
        data = await asyncio.get_running_loop().sock_recv(ours, 65536)
        if not data:
            await proc.wait()
            raise WarmProcessGone(f"the sandbox's warm process exited before it was ready (code {proc.returncode})")
        return cls(proc, ours, json.loads(data))

    async def _read_loop(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while data := await loop.sock_recv(self.ctrl, 65536):
                message = json.loads(data)
                job = message.get("job")
                kind = message.get("t")
                if kind == "spawned":
                    self._resolve(self._spawned, job, int(message["pid"]))
                elif kind == "spawn_failed":
                    future = self._spawned.pop(job, None)
                    if future is not None and not future.done():
                        future.set_exception(WarmProcessGone(str(message.get("error"))))
                elif kind == "exit":
                    self._resolve(self._exits, job, int(message["status"]))
        except (OSError, ValueError):
            pass
        self.dead = True
        for future in (*self._spawned.values(), *self._exits.values()):
            if not future.done():
                future.set_exception(WarmProcessGone("the sandbox's warm process died"))
                future.exception()

    @staticmethod
    def _resolve(table: dict[int, asyncio.Future[int]], job: Any, value: int) -> None:
        future = table.get(job)
        if future is not None and not future.done():
            future.set_result(value)

    async def spawn(self, job: int, limits: Limits, fds: list[int]) -> int:
        if self.dead:
            raise WarmProcessGone("the sandbox's warm process died")
        loop = asyncio.get_running_loop()
        self._spawned[job] = loop.create_future()
        self._exits[job] = loop.create_future()
        message = json.dumps({"op": "spawn", "job": job, "limits": limits.model_dump()}).encode()
        socket.send_fds(self.ctrl, [message], fds)
        try:
            return await self._spawned[job]
        finally:
            self._spawned.pop(job, None)

    def signal(self, job: int, sig: int) -> None:
        if not self.dead:
            with contextlib.suppress(OSError):
                self.ctrl.send(json.dumps({"op": "signal", "job": job, "sig": sig}).encode())

    async def exit_status(self, job: int, timeout: float) -> int | None:
        future = self._exits.get(job)
        if future is None:
            return None
        try:
            return await asyncio.wait_for(asyncio.shield(future), timeout)
        except TimeoutError:
            return None
        finally:
            if future.done():
                self._exits.pop(job, None)

    async def close(self) -> None:
        self.ctrl.close()  # EOF: it kills its children and exits
        try:
            await asyncio.wait_for(self.proc.wait(), 3.0)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            await self.proc.wait()
        self._reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._reader
