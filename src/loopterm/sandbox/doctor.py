"""``loopterm doctor``'s probes: which sandbox layers this machine really gives a candidate.

Each kernel layer is tried for real in a short-lived forked process, never in
this one: the probe applies the layer exactly as ``child.py`` does, checks
that something it must refuse is refused, writes one JSON line to a pipe and
leaves with ``os._exit``. The parent reads it, reaps the process (killing it
first if it has not answered within :data:`PROBE_TIMEOUT_S`) and removes the
temp folder the probes used, so nothing is left behind. The whole diagnosis
takes tens of milliseconds.

Layers, each with what it enforces and, when missing, what a candidate could
then do (the wording depends on which other layers remain):

- ``rlimits``: address space, CPU time, file size, open files, processes;
- ``quota``: the candidate's folder on a private tmpfs (``quota.py``);
- ``landlock``: file rules, TCP (ABI 4+), signal and abstract-socket scopes (ABI 6+);
- ``seccomp``: the syscall filter (x86-64 only);
- ``audit-hook``: the Python-level rules (always);
- ``process-layout``: check runner / warm process / candidate process (by design).

:class:`Simulation` is a diagnostic and test switch (``LOOPTERM_DOCTOR_SIMULATE``
in the command): it shows what the report says on a lesser kernel by taking
away a layer for real in the probe process (no namespaces: ``unshare`` is
refused by a seccomp filter, as a container's default profile does) or by
believing less of the kernel (a lower Landlock ABI, seccomp unsupported). A
simulated report always says that it is one.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import platform
import resource
import select
import shutil
import signal
import socket
import struct
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from loopterm.sandbox import caps, child, guard, landlock, quota, seccomp
from loopterm.sandbox.limits import Limits
from loopterm.sandbox.policy import Policy

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


def _refused(action: Callable[[], object]) -> str | None:
    """None when ``action`` was refused with a permission error; else what happened instead."""
    try:
        action()
    except PermissionError:
        return None
    except OSError as exc:
        return f"{errno.errorcode.get(exc.errno or 0, 'error')} instead of a refusal"
    return "it was allowed"


def _errno_text(number: int) -> str:
    return f"{errno.errorcode.get(number, str(number))}: {os.strerror(number)}" if number else "no error code"


# --- seccomp -------------------------------------------------------------------------------------


def _seccomp_probe() -> dict[str, Any]:
    installed = seccomp.install()
    if not installed:
        return {"installed": False}

    def fork() -> None:
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        os.waitpid(pid, 0)

    return {
        "installed": True,
        "fork": _refused(fork),
        "tcp socket": _refused(lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()),
        "signal to another process": _refused(lambda: os.kill(os.getppid(), 0)),
    }


def probe_seccomp(sim: Simulation) -> Layer:
    enforces = (
        "a syscall filter: no fork, exec, ptrace, mount, namespaces, non-UNIX sockets or signals to "
        "other processes, even as root"
    )
    machine = platform.machine() or "unknown"
    if sim.no_seccomp or not seccomp.supported():
        simulated = " (simulated: taken as unsupported)" if sim.no_seccomp else ""
        found = (
            f"the filter is written for Linux x86-64; this machine is "
            f"{platform.system() or 'unknown'} {machine}{simulated}"
        )
        return Layer("seccomp", "seccomp", MISSING, enforces, found)
    out = in_child(_seccomp_probe)
    if "error" in out:
        return Layer("seccomp", "seccomp", MISSING, enforces, f"the filter could not be installed: {out['error']}")
    if not out.get("installed"):
        return Layer("seccomp", "seccomp", MISSING, enforces, "the filter was not installed")
    leaks = [f"{what}: {how}" for what, how in out.items() if what != "installed" and how is not None]
    if leaks:
        return Layer("seccomp", "seccomp", PARTIAL, enforces, "installed, but not refused: " + "; ".join(leaks))
    return Layer(
        "seccomp",
        "seccomp",
        ACTIVE,
        enforces,
        "installed in a test process: a fork, a TCP socket and a signal to its parent were refused",
    )


# --- Landlock ------------------------------------------------------------------------------------


def _landlock_probe(policy: Policy, abi: int, outside: str, abstract: bytes) -> dict[str, Any]:
    enforced = landlock.restrict(policy, abi)
    out: dict[str, Any] = {"enforced": enforced}
    if "landlock-fs" in enforced:
        path = os.path.join(policy.workdir, "inside")
        with open(path, "w") as f:
            f.write("x")
        out["fs"] = _refused(lambda: open(os.path.join(outside, "written"), "w").close()) or _refused(
            lambda: open(os.path.join(outside, "secret")).close()
        )
    if "landlock-tcp" in enforced:
        out["tcp"] = _refused(lambda: socket.create_connection(("127.0.0.1", 1), timeout=0.2).close())

    def connect_abstract() -> None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(abstract)

    if "landlock-scope" in enforced:
        out["scope"] = _refused(lambda: os.kill(os.getppid(), 0)) or _refused(connect_abstract)
    return out


def _landlock_abi(sim: Simulation) -> int:
    real = landlock.abi_version()
    return real if sim.landlock_abi is None else min(real, sim.landlock_abi)


def _linux(abi: int) -> str:
    return f"Linux {LANDLOCK_LINUX[abi]}+" if abi in LANDLOCK_LINUX else "a newer Linux"


def probe_landlock(sim: Simulation, root: str, abi: int, seccomp_active: bool) -> Layer:
    enforces = "the kernel confines the candidate's files, TCP and signals, C code included"
    simulated = " (simulated)" if sim.landlock_abi is not None else ""
    out: dict[str, Any] = {}
    if abi > 0:
        work, outside = os.path.join(root, "landlock-work"), os.path.join(root, "landlock-outside")
        os.mkdir(work)
        os.mkdir(outside)
        with open(os.path.join(outside, "secret"), "w") as f:
            f.write("x")
        policy = Policy(os.path.realpath(work), (), ())
        abstract = f"\0loopterm-doctor-{os.getpid()}-{os.urandom(4).hex()}".encode()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as listener:
            listener.bind(abstract)
            listener.listen(1)
            out = in_child(lambda: _landlock_probe(policy, abi, outside, abstract))
    enforced = out.get("enforced", [])

    def item(key: str, feature: str, name: str, needs: int, what: str, proof: str, risk: str) -> Item:
        if abi < needs:
            if abi == 0:
                found = f"this kernel offers no Landlock (not built in, or not enabled at boot: lsm=){simulated}"
            else:
                found = f"needs ABI {needs} ({_linux(needs)}); this kernel has ABI {abi}{simulated}"
            return Item(key, name, MISSING, what, found, risk)
        if "error" in out:
            return Item(key, name, MISSING, what, f"could not be applied: {out['error']}", risk)
        if feature not in enforced:
            return Item(key, name, MISSING, what, "not applied", risk)
        leak = out.get(key)
        if leak is not None:
            return Item(key, name, MISSING, what, f"applied, but a test was not refused: {leak}", risk)
        return Item(key, name, ACTIVE, what, f"a test process was refused {proof}")

    if seccomp_active:
        tcp_risk = (
            "without Landlock's TCP rules (Linux < 6.7), a candidate relies on seccomp alone to be kept off the network"
        )
        scope_risk = (
            "without Landlock's signal scope (Linux < 6.12), a candidate relies on seccomp alone to be "
            "kept from signalling the warm process, the check runner or other candidates, and from "
            "their abstract UNIX sockets"
        )
    else:
        tcp_risk = (
            "without Landlock's TCP rules and without seccomp, only the audit hook keeps a candidate off "
            "the network: code that gets around it can connect wherever this machine can"
        )
        scope_risk = (
            "without Landlock's signal scope and without seccomp, only the audit hook keeps a candidate "
            "from signalling the warm process (ending every validation in flight), the check runner or "
            "other candidates, and from their abstract UNIX sockets"
        )
    who = "root" if os.geteuid() == 0 else "this user"
    items = (
        item(
            "fs",
            "landlock-fs",
            "file rules",
            1,
            "writes only in its own folder; reads only the Python installation and a few system files",
            "a write and a read outside its folder",
            "without Landlock, only the audit hook keeps a candidate to its files: code that gets around it "
            "could read loopterm's source, the task's checks and other candidates' folders, and write "
            f"anywhere {who} may",
        ),
        item("tcp", "landlock-tcp", "TCP", LANDLOCK_TCP_ABI, "no TCP bind or connect", "a TCP connect", tcp_risk),
        item(
            "scope",
            "landlock-scope",
            "scopes",
            LANDLOCK_SCOPE_ABI,
            "no signals to, and no abstract UNIX sockets of, processes outside the candidate",
            "a signal to its parent and its parent's abstract socket",
            scope_risk,
        ),
    )
    found = f"ABI {abi}{simulated}" if abi else f"none{simulated}"
    return Layer("landlock", "Landlock", combined(items), enforces, found, None, items)


# --- the folder quota ----------------------------------------------------------------------------


def _refuse_unshare() -> None:
    """A seccomp filter that refuses ``unshare`` (EPERM), as a container's default profile does."""

    def ins(code: int, jt: int, jf: int, k: int) -> bytes:
        return struct.pack("=HBBI", code, jt, jf, k & 0xFFFFFFFF)

    code = b"".join(
        [
            ins(seccomp.LD_W_ABS, 0, 0, 4),  # arch
            ins(seccomp.JEQ_K, 0, 3, seccomp.AUDIT_ARCH_X86_64),
            ins(seccomp.LD_W_ABS, 0, 0, 0),  # syscall number
            ins(seccomp.JEQ_K, 0, 1, SYS_UNSHARE_X86_64),
            ins(seccomp.RET_K, 0, 0, seccomp.RET_ERRNO | errno.EPERM),
            ins(seccomp.RET_K, 0, 0, seccomp.RET_ALLOW),
        ]
    )

    class Fprog(ctypes.Structure):
        _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))

    buf = ctypes.create_string_buffer(code, len(code))
    prog = Fprog(len(code) // 8, ctypes.cast(buf, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    if (
        libc.prctl(seccomp.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
        or libc.prctl(seccomp.PR_SET_SECCOMP, seccomp.SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0
    ):
        raise OSError(ctypes.get_errno(), "could not refuse unshare for the simulation")


def _quota_probe(folder: str, refuse_unshare: bool) -> dict[str, Any]:
    if refuse_unshare:
        if not seccomp.supported():
            return {"mounted": False, "errno": errno.EPERM}
        _refuse_unshare()
    ctypes.set_errno(0)
    if not quota.private_tmpfs(folder, PROBE_QUOTA_MIB):
        return {"mounted": False, "errno": ctypes.get_errno()}
    st = os.statvfs(folder)
    with open(os.path.join(folder, "inside"), "w") as f:  # must not be seen outside this process
        f.write("x")
    return {"mounted": True, "size": st.f_blocks * st.f_frsize}


def probe_quota(sim: Simulation, root: str, limits: Limits) -> Layer:
    enforces = (
        f"the candidate's folder is a private {limits.quota_mib} MiB tmpfs in its own mount namespace: "
        "writes past it fail with ENOSPC, in that candidate only"
    )
    risk = (
        f"without the quota, a candidate can fill the disk up to the file-size limit "
        f"({limits.file_size_mib} MiB) per file, with as many files as it likes, in its folder under "
        f"{tempfile.gettempdir()}"
    )
    folder = os.path.join(root, "quota")
    os.mkdir(folder)
    out = in_child(lambda: _quota_probe(folder, sim.no_namespaces))
    leaked = os.listdir(folder)
    simulated = "; simulated: unshare refused" if sim.no_namespaces else ""
    if "error" in out:
        return Layer("quota", "quota", MISSING, enforces, f"the probe failed: {out['error']}", risk)
    if not out.get("mounted"):
        found = (
            f"no private mount namespace and tmpfs here ({_errno_text(int(out.get('errno') or 0))}"
            f"{simulated}): namespaces or mounts are not allowed (a container, or user namespaces turned off)"
        )
        return Layer("quota", "quota", MISSING, enforces, found, risk)
    if leaked:
        return Layer(
            "quota",
            "quota",
            MISSING,
            enforces,
            "a file written on the test tmpfs was visible outside its process",
            risk,
        )
    size = int(out.get("size") or 0)
    if size != PROBE_QUOTA_MIB * MIB:
        return Layer(
            "quota",
            "quota",
            MISSING,
            enforces,
            f"a {PROBE_QUOTA_MIB} MiB tmpfs was asked for, the folder has {size} bytes",
            risk,
        )
    return Layer(
        "quota",
        "quota",
        ACTIVE,
        enforces,
        f"a test process mounted a {PROBE_QUOTA_MIB} MiB tmpfs in a private namespace; nothing showed outside",
    )


# --- capabilities ---------------------------------------------------------------------------------


def _caps_probe() -> dict[str, Any]:
    before = caps.held()
    dropped = caps.drop_all()
    refused = _refused(lambda: os.setpriority(os.PRIO_PROCESS, 0, -5)) if before not in (0, -1) else None
    return {"before": before, "dropped": dropped, "after": caps.held(), "raise_priority": refused}


def probe_capabilities() -> Layer:
    enforces = (
        "the candidate process holds no Linux capability, even when loopterm runs as root: it cannot "
        "raise its own priority, take a real-time scheduling policy or force socket buffers past "
        "the system's limits"
    )
    risk = (
        "a candidate started by root keeps root's capabilities: it could take a real-time policy and busy-"
        "loop, starving the check runner and every other lane, and force socket buffers past the system's "
        "limits; as another user it holds none to begin with"
    )
    out = in_child(_caps_probe)
    if "error" in out:
        return Layer("capabilities", "no capabilities", MISSING, enforces, f"the probe failed: {out['error']}", risk)
    if int(out.get("before") or 0) == 0:
        return Layer(
            "capabilities",
            "no capabilities",
            ACTIVE,
            enforces,
            "loopterm runs without capabilities here, so candidates hold none",
        )
    if not out.get("dropped") or out.get("after") != 0:
        return Layer(
            "capabilities",
            "no capabilities",
            MISSING,
            enforces,
            f"a test process could not drop its capabilities (left: {out.get('after')})",
            risk,
        )
    return Layer(
        "capabilities",
        "no capabilities",
        ACTIVE,
        enforces,
        "a test process dropped every capability; raising its own priority was then refused "
        f"({out.get('raise_priority') or 'refused'})",
    )


# --- resource limits -----------------------------------------------------------------------------


def _rlimits_probe(limits: Limits) -> dict[str, Any]:
    child._limits(limits)  # exactly what a candidate process gets
    out: dict[str, Any] = {}
    for key, which in (
        ("as", resource.RLIMIT_AS),
        ("cpu", resource.RLIMIT_CPU),
        ("fsize", resource.RLIMIT_FSIZE),
        ("nofile", resource.RLIMIT_NOFILE),
        ("nproc", getattr(resource, "RLIMIT_NPROC", None)),
    ):
        out[key] = None if which is None else resource.getrlimit(which)[0]
    return out


def probe_rlimits(limits: Limits, seccomp_active: bool) -> Layer:
    out = in_child(lambda: _rlimits_probe(limits))
    error = out.get("error")

    def item(key: str, name: str, want: int | None, shown: str, what: str, risk: str) -> Item:
        got = out.get(key)
        if error is not None:
            return Item(key, name, MISSING, what, f"the probe failed: {error}", risk)
        if got is None or got == resource.RLIM_INFINITY:
            return Item(key, name, MISSING, what, "could not be set here (unlimited in a test process)", risk)
        if want is not None and got > want:
            return Item(key, name, MISSING, what, f"{got} in a test process, above loopterm's {shown}", risk)
        if want is not None and got < want:
            return Item(key, name, ACTIVE, what, f"{got} (an inherited hard limit is below loopterm's {shown})")
        return Item(key, name, ACTIVE, what, f"set to {shown} in a test process")

    items = [
        item(
            "as",
            "address space",
            limits.memory_mib * MIB,
            f"{limits.memory_mib} MiB",
            f"{limits.memory_mib} MiB (RLIMIT_AS): allocating more raises MemoryError",
            "without the address-space limit, a candidate can allocate until the machine runs out of memory, "
            "and the kernel's OOM killer may pick another process",
        ),
        item(
            "cpu",
            "CPU time",
            limits.cpu_limit_s,
            f"{limits.cpu_limit_s} s",
            f"{limits.cpu_limit_s} s (RLIMIT_CPU): past it the process is killed, behind the wall-clock timeouts",
            "without the CPU limit, only the wall-clock timeouts stop a candidate's busy threads",
        ),
        item(
            "fsize",
            "file size",
            limits.file_size_mib * MIB,
            f"{limits.file_size_mib} MiB",
            f"{limits.file_size_mib} MiB per file (RLIMIT_FSIZE): a longer write fails with EFBIG",
            f"without the file-size limit, one file can grow to fill the quota ({limits.quota_mib} MiB), or the "
            "disk where there is no quota",
        ),
        item(
            "nofile",
            "open files",
            limits.open_files,
            str(limits.open_files),
            f"{limits.open_files} (RLIMIT_NOFILE)",
            "without the open-files limit, a candidate can hold file descriptors up to the system's limit",
        ),
    ]
    if os.geteuid() == 0:
        what = "as root the kernel ignores RLIMIT_NPROC: the seccomp filter refuses every fork instead"
        if seccomp_active:
            items.append(Item("nproc", "processes", ACTIVE, what, "root: forks are refused by seccomp"))
        else:
            items.append(
                Item(
                    "nproc",
                    "processes",
                    MISSING,
                    what,
                    "root, and no seccomp filter",
                    "without seccomp, and as root (the kernel does not apply RLIMIT_NPROC to root), only the audit "
                    "hook stands between a candidate and a fork bomb; code that gets around it can fork freely",
                )
            )
    else:
        items.append(
            item(
                "nproc",
                "processes",
                None,
                "",
                f"the system's tasks + {limits.threads} (RLIMIT_NPROC)",
                "without the process limit, a fork bomb is stopped by seccomp and the audit hook only",
            )
        )
    return Layer(
        "rlimits",
        "rlimits",
        combined(items),
        "resource limits on the candidate process, set before its code runs",
        "set in a test process by the candidate's own code",
        None,
        tuple(items),
    )


# --- the audit hook and the process layout -------------------------------------------------------


def _audit_probe(workdir: str) -> dict[str, Any]:
    guard.install(Policy(workdir, (), ()))
    out: dict[str, Any] = {}
    probes: list[tuple[str, Callable[[], None]]] = [
        ("tcp socket", lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()),
        ("signal to another process", lambda: os.kill(os.getppid(), 0)),
    ]
    for what, action in probes:
        try:
            action()
            out[what] = "it was allowed"
        except guard.SandboxDenied:
            out[what] = None
        except OSError as exc:
            out[what] = f"{errno.errorcode.get(exc.errno or 0, 'error')} instead of the hook's refusal"
    return out


def probe_audit_hook(root: str) -> Layer:
    enforces = (
        "Python-level rules with clear errors: no processes, network, ctypes, signals to others, writes "
        "outside its folder or reads outside the Python installation"
    )
    out = in_child(lambda: _audit_probe(os.path.realpath(root)))
    if "error" in out:
        return Layer(
            "audit-hook",
            "audit hook",
            MISSING,
            enforces,
            f"the probe failed: {out['error']}",
            "without the audit hook, a candidate gets EPERM from the kernel layers instead of a clear "
            "error, and nothing at all where they are missing",
        )
    leaks = [f"{what}: {how}" for what, how in out.items() if how is not None]
    if leaks:
        return Layer("audit-hook", "audit hook", PARTIAL, enforces, "installed, but not refused: " + "; ".join(leaks))
    return Layer(
        "audit-hook",
        "audit hook",
        ACTIVE,
        enforces,
        f"installed in a test process (Python {platform.python_version()}, every platform)",
    )


def process_layout() -> Layer:
    by_design = "by design: every validation runs this way"
    items = (
        Item(
            "check-runner",
            "check runner",
            ACTIVE,
            "its own process sends the checks and decides the verdict; no candidate can reach it",
            by_design,
        ),
        Item(
            "warm-process",
            "warm process",
            ACTIVE,
            "holds libraries only (no suite, no reference, no candidate's source) and forks the candidates",
            by_design,
        ),
        Item(
            "candidate",
            "candidate",
            ACTIVE,
            "a fresh process per validation that only serves the checks' requests, killed with its parent",
            by_design,
        ),
    )
    return Layer(
        "process-layout",
        "process layout",
        ACTIVE,
        "verdicts are decided out of the candidate's reach",
        by_design,
        None,
        items,
    )


# --- everything ----------------------------------------------------------------------------------


def _seccomp_risk(layer: Layer, landlock_layer: Layer) -> str:
    root = os.geteuid() == 0
    kept = [i.name for i in landlock_layer.items if i.status == ACTIVE and i.id in ("tcp", "scope")]
    rest = (
        f"; Landlock still refuses {' and '.join(kept).replace('scopes', 'signals to other processes')}"
        if kept
        else "; with no Landlock TCP or signal rules either, the audit hook is all that is left"
    )
    forks = ", and as root no kernel limit stops a fork bomb" if root else ""
    return (
        "without seccomp, code that gets around the audit hook can fork, exec programs, ptrace, mount and "
        f"open any socket{forks}{rest}"
    )


def diagnose(sim: Simulation | None = None, limits: Limits | None = None) -> Diagnosis:
    """Probe every layer on this machine; nothing is left behind (processes reaped, temp folder removed)."""
    sim = sim or Simulation()
    limits = limits or Limits()
    started = time.perf_counter()
    abi = _landlock_abi(sim)
    root = tempfile.mkdtemp(prefix="loopterm-doctor-")
    try:
        seccomp_layer = probe_seccomp(sim)
        seccomp_active = seccomp_layer.status == ACTIVE
        landlock_layer = probe_landlock(sim, root, abi, seccomp_active)
        if seccomp_layer.status != ACTIVE:
            seccomp_layer = Layer(
                seccomp_layer.id,
                seccomp_layer.name,
                seccomp_layer.status,
                seccomp_layer.enforces,
                seccomp_layer.found,
                _seccomp_risk(seccomp_layer, landlock_layer),
            )
        layers = (
            probe_rlimits(limits, seccomp_active),
            probe_quota(sim, root, limits),
            probe_capabilities(),
            landlock_layer,
            seccomp_layer,
            probe_audit_hook(root),
            process_layout(),
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    info = {
        "system": platform.system(),
        "release": platform.release(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "root": os.geteuid() == 0,
        "landlock_abi": abi,
    }
    return Diagnosis(layers, info, sim.words, (time.perf_counter() - started) * 1000)
