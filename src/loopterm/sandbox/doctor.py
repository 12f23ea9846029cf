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

import os
import platform
import shutil
import tempfile
import time

from loopterm.sandbox.diagnosis import (
    ACTIVE,
    ENV_SIMULATE,
    MISSING,
    PARTIAL,
    Diagnosis,
    Item,
    Layer,
    Simulation,
    Status,
    in_child,
)
from loopterm.sandbox.limits import Limits
from loopterm.sandbox.probes_kernel import landlock_abi_in_use, probe_landlock, probe_quota, probe_seccomp
from loopterm.sandbox.probes_process import probe_audit_hook, probe_capabilities, probe_rlimits, process_layout

# The report's vocabulary, for the command and the tests, under one name: ``loopterm.sandbox.doctor``.
__all__ = [
    "ACTIVE",
    "ENV_SIMULATE",
    "MISSING",
    "PARTIAL",
    "Diagnosis",
    "Item",
    "Layer",
    "Simulation",
    "Status",
    "diagnose",
    "in_child",
    "probe_capabilities",
]


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
    abi = landlock_abi_in_use(sim)
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
