"""The doctor's report and its probe runner: what a layer is, and running one probe in a fork.

``doctor.py`` puts the report together; ``probes_kernel.py`` (seccomp, Landlock, the folder
quota) and ``probes_process.py`` (capabilities, resource limits, the audit hook, the process
layout) each probe their layers through :func:`in_child`, never in this process.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import select
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Status = Literal["active", "missing", "partial"]
ACTIVE: Status = "active"
MISSING: Status = "missing"
PARTIAL: Status = "partial"

ENV_SIMULATE = "LOOPTERM_DOCTOR_SIMULATE"
PROBE_TIMEOUT_S = 2.0  # a probe answers in milliseconds; past this it is killed and counts as failed
PROBE_QUOTA_MIB = 1
MIB = 1024 * 1024
# The first Linux release of each Landlock ABI.
LANDLOCK_LINUX = {1: "5.13", 2: "5.19", 3: "6.2", 4: "6.7", 5: "6.10", 6: "6.12", 7: "6.15"}
LANDLOCK_TCP_ABI = 4
LANDLOCK_SCOPE_ABI = 6
SYS_UNSHARE_X86_64 = 272


@dataclass(frozen=True)
class Simulation:
    """What to take away from this machine, to see the report a lesser one would get.

    ``landlock_abi``: believe the kernel offers at most this Landlock ABI (0: none);
    ``no_seccomp``: believe the architecture has no seccomp filter (as on aarch64);
    ``no_namespaces``: the quota's probe process is refused ``unshare`` for real.
    """

    landlock_abi: int | None = None
    no_seccomp: bool = False
    no_namespaces: bool = False

    WORDS = "no-landlock, landlock-abi=N, no-seccomp, no-namespaces"

    @classmethod
    def parse(cls, text: str) -> Simulation:
        """``"no-namespaces,landlock-abi=5"`` and the like; ValueError names what is wrong."""
        abi: int | None = None
        no_seccomp = no_namespaces = False
        for raw in text.split(","):
            word = raw.strip().lower()
            if not word:
                continue
            if word == "no-landlock":
                abi = 0
            elif word.startswith("landlock-abi="):
                value = word.partition("=")[2]
                if not value.isdigit():
                    raise ValueError(f"{raw.strip()!r}: landlock-abi takes a whole number of 0 or more")
                abi = int(value)
            elif word == "no-seccomp":
                no_seccomp = True
            elif word == "no-namespaces":
                no_namespaces = True
            else:
                raise ValueError(f"{raw.strip()!r} is not something to simulate (use {cls.WORDS})")
        return cls(abi, no_seccomp, no_namespaces)

    @property
    def words(self) -> list[str]:
        out = []
        if self.landlock_abi is not None:
            out.append("no-landlock" if self.landlock_abi == 0 else f"landlock-abi={self.landlock_abi}")
        if self.no_seccomp:
            out.append("no-seccomp")
        if self.no_namespaces:
            out.append("no-namespaces")
        return out


@dataclass(frozen=True)
class Item:
    """One part of a layer (a limit, a Landlock feature), as found here."""

    id: str
    name: str
    status: Status
    enforces: str
    found: str
    risk: str | None = None  # what a candidate could do without it; None when active

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "enforces": self.enforces,
            "found": self.found,
            "risk": self.risk,
        }


@dataclass(frozen=True)
class Layer:
    id: str
    name: str
    status: Status
    enforces: str
    found: str
    risk: str | None = None
    items: tuple[Item, ...] = ()

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "enforces": self.enforces,
            "found": self.found,
            "risk": self.risk,
            "items": [item.as_json() for item in self.items],
        }


@dataclass(frozen=True)
class Diagnosis:
    layers: tuple[Layer, ...]
    platform: dict[str, Any]
    simulated: list[str] = field(default_factory=list)
    duration_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return all(layer.status == ACTIVE for layer in self.layers)

    def layer(self, layer_id: str) -> Layer:
        return next(layer for layer in self.layers if layer.id == layer_id)

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "platform": self.platform,
            "simulated": self.simulated,
            "duration_ms": round(self.duration_ms, 1),
            "layers": [layer.as_json() for layer in self.layers],
        }


def combined(items: tuple[Item, ...] | list[Item]) -> Status:
    """A layer's status from its items': active when all are, missing when none is."""
    statuses = {item.status for item in items}
    if statuses == {ACTIVE}:
        return ACTIVE
    if statuses <= {MISSING}:
        return MISSING
    return PARTIAL


# --- running a probe in a forked process ---------------------------------------------------------


def in_child(probe: Callable[[], dict[str, Any]], timeout_s: float = PROBE_TIMEOUT_S) -> dict[str, Any]:
    """Run ``probe`` in a forked process and return the dict it produced.

    The process is always reaped before this returns (killed first when it has
    not answered within ``timeout_s``). A probe that raised, died or answered
    nothing gives ``{"error": "..."}``.
    """
    if not hasattr(os, "fork"):
        return {"error": "this platform cannot fork a process"}
    r, w = os.pipe()
    try:
        pid = os.fork()
    except OSError as exc:
        os.close(r)
        os.close(w)
        return {"error": f"could not fork a probe process: {exc.strerror}"}
    if pid == 0:  # the probe: never returns
        code = 1
        try:
            os.close(r)
            try:
                out = probe()
                code = 0
            except BaseException as exc:
                out = {"error": f"{type(exc).__name__}: {exc}"}
            data = json.dumps(out).encode()
            while data:
                data = data[os.write(w, data) :]
        finally:
            os._exit(code)
    os.close(w)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout_s
    timed_out = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([r], [], [], left)[0]:
                timed_out = True
                break
            chunk = os.read(r, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(r)
        if timed_out:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _, status = os.waitpid(pid, 0)
    if timed_out:
        return {"error": f"the probe process did not answer within {timeout_s:g} s"}
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        name = signal.Signals(number).name if number in signal.Signals._value2member_map_ else f"signal {number}"
        return {"error": f"the probe process was killed by {name}"}
    try:
        out = json.loads(b"".join(chunks))
    except ValueError:
        return {"error": "the probe process answered nothing readable"}
    return out if isinstance(out, dict) else {"error": "the probe process answered nothing readable"}


def why_not_refused(action: Callable[[], object]) -> str | None:
    """None when ``action`` was refused with a permission error; else what happened instead."""
    try:
        action()
    except PermissionError:
        return None
    except OSError as exc:
        return f"{errno.errorcode.get(exc.errno or 0, 'error')} instead of a refusal"
    return "it was allowed"


def errno_text(number: int) -> str:
    return f"{errno.errorcode.get(number, str(number))}: {os.strerror(number)}" if number else "no error code"
