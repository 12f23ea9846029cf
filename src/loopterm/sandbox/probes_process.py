"""The process layers' probes for ``loopterm doctor``: capabilities, limits, the audit hook, the layout."""

from __future__ import annotations

import errno
import os
import platform
import resource
import socket
from collections.abc import Callable
from typing import Any

from loopterm.sandbox import caps, child, guard
from loopterm.sandbox.diagnosis import ACTIVE, MIB, MISSING, PARTIAL, Item, Layer, combined, in_child, why_not_refused
from loopterm.sandbox.limits import Limits
from loopterm.sandbox.policy import Policy

# --- capabilities ---------------------------------------------------------------------------------


def _caps_probe() -> dict[str, Any]:
    before = caps.held()
    dropped = caps.drop_all()
    refused = why_not_refused(lambda: os.setpriority(os.PRIO_PROCESS, 0, -5)) if before not in (0, -1) else None
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
