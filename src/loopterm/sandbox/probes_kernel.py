"""The kernel layers' probes for ``loopterm doctor``: seccomp, Landlock and the folder quota."""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import socket
import struct
import tempfile
from typing import Any

from loopterm.sandbox import landlock, quota, seccomp
from loopterm.sandbox.diagnosis import (
    ACTIVE,
    LANDLOCK_LINUX,
    LANDLOCK_SCOPE_ABI,
    LANDLOCK_TCP_ABI,
    MIB,
    MISSING,
    PARTIAL,
    PROBE_QUOTA_MIB,
    SYS_UNSHARE_X86_64,
    Item,
    Layer,
    Simulation,
    combined,
    errno_text,
    in_child,
    why_not_refused,
)
from loopterm.sandbox.limits import Limits
from loopterm.sandbox.policy import Policy

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
        "fork": why_not_refused(fork),
        "tcp socket": why_not_refused(lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM).close()),
        "signal to another process": why_not_refused(lambda: os.kill(os.getppid(), 0)),
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
        out["fs"] = why_not_refused(lambda: open(os.path.join(outside, "written"), "w").close()) or why_not_refused(
            lambda: open(os.path.join(outside, "secret")).close()
        )
    if "landlock-tcp" in enforced:
        out["tcp"] = why_not_refused(lambda: socket.create_connection(("127.0.0.1", 1), timeout=0.2).close())

    def connect_abstract() -> None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.connect(abstract)

    if "landlock-scope" in enforced:
        out["scope"] = why_not_refused(lambda: os.kill(os.getppid(), 0)) or why_not_refused(connect_abstract)
    return out


def landlock_abi_in_use(sim: Simulation) -> int:
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
            f"no private mount namespace and tmpfs here ({errno_text(int(out.get('errno') or 0))}"
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
