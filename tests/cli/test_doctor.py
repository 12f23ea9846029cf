"""``loopterm doctor``: real probes on this machine, and what it says when a layer is missing.

A kernel cannot be swapped in a test, so "missing" is made the narrowest
honest way: the kernel probes themselves are monkeypatched (``landlock.abi_version``
answering 0, ``seccomp.supported`` answering False), or the command's own
diagnostic switch (``LOOPTERM_DOCTOR_SIMULATE``) takes the layer away in the
probe processes (``no-namespaces`` has ``unshare`` refused there by a seccomp
filter, as a container's default profile does).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

from loopterm.cli import main
from loopterm.commands import doctor as doctor_command
from loopterm.sandbox import doctor, landlock, seccomp

LAYER_IDS = ["rlimits", "quota", "capabilities", "landlock", "seccomp", "audit-hook", "process-layout"]
ENTRY_KEYS = {"id", "name", "status", "enforces", "found", "risk"}
STATUSES = {"active", "missing", "partial"}

full_kernel = pytest.mark.skipif(
    sys.platform != "linux" or platform.machine() != "x86_64" or landlock.abi_version() < 6,
    reason="every layer needs Linux x86-64 with Landlock ABI 6+ (Linux 6.12)",
)


def children() -> set[int]:
    """Processes whose parent is this one, zombies included (an unreaped probe would show here)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rpartition(")")[2].split()[1]) == os.getpid():
            found.add(int(entry.name))
    return found


def leftovers() -> set[str]:
    return {name for name in os.listdir(tempfile.gettempdir()) if name.startswith("loopterm-doctor-")}


def doctor_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["doctor", *args])
    out = capsys.readouterr()
    return code, out.out


def report(capsys: pytest.CaptureFixture[str]) -> tuple[int, str, dict[str, Any]]:
    """The text report (whitespace flattened, so wrapping does not matter) and the JSON one."""
    code, text = doctor_cli(capsys)
    json_code, raw = doctor_cli(capsys, "--json")
    assert json_code == code
    return code, " ".join(text.split()), json.loads(raw)


def layer(data: dict[str, Any], layer_id: str) -> dict[str, Any]:
    return next(entry for entry in data["layers"] if entry["id"] == layer_id)


def item(data: dict[str, Any], layer_id: str, item_id: str) -> dict[str, Any]:
    return next(entry for entry in layer(data, layer_id)["items"] if entry["id"] == item_id)


@pytest.fixture(autouse=True)
def _wide(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    monkeypatch.delenv(doctor.ENV_SIMULATE, raising=False)


@full_kernel
def test_every_layer_is_active_here_and_the_exit_code_is_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, text, data = report(capsys)
    assert code == 0, text
    assert data["ok"] is True
    assert [entry["status"] for entry in data["layers"]] == ["active"] * len(LAYER_IDS)
    for entry in data["layers"]:
        assert entry["risk"] is None
        assert all(part["status"] == "active" and part["risk"] is None for part in entry["items"])
    assert "all 7 layers active" in text
    assert "missing" not in text and "partial" not in text and "SIMULATED" not in text
    assert data["platform"]["landlock_abi"] == landlock.abi_version()
    # What was found says it was tried for real, not assumed.
    assert "refused" in layer(data, "seccomp")["found"]
    assert "tmpfs" in layer(data, "quota")["found"]
    assert item(data, "landlock", "scope")["found"].startswith("a test process was refused")


@full_kernel
def test_the_command_itself_exits_0_with_json(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "loopterm", "doctor", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert json.loads(out.stdout)["ok"] is True
    assert list(tmp_path.iterdir()) == []  # its temp folder is gone


def test_json_shape(capsys: pytest.CaptureFixture[str]) -> None:
    code, raw = doctor_cli(capsys, "--json")
    data = json.loads(raw)
    assert set(data) == {"ok", "platform", "simulated", "duration_ms", "layers"}
    assert set(data["platform"]) == {"system", "release", "machine", "python", "root", "landlock_abi"}
    assert data["simulated"] == []
    assert [entry["id"] for entry in data["layers"]] == LAYER_IDS
    for entry in data["layers"]:
        assert set(entry) == ENTRY_KEYS | {"items"}
        assert entry["status"] in STATUSES
        assert isinstance(entry["enforces"], str) and entry["enforces"]
        for part in entry["items"]:
            assert set(part) == ENTRY_KEYS
            assert part["status"] in {"active", "missing"}
            assert (part["risk"] is None) == (part["status"] == "active")
        if not entry["items"]:
            assert (entry["risk"] is None) == (entry["status"] == "active")
    assert [p["id"] for p in layer(data, "rlimits")["items"]] == ["as", "cpu", "fsize", "nofile", "nproc"]
    assert [p["id"] for p in layer(data, "landlock")["items"]] == ["fs", "tcp", "scope"]
    assert [p["id"] for p in layer(data, "process-layout")["items"]] == ["check-runner", "warm-process", "candidate"]
    assert code == (0 if data["ok"] else 1)


@full_kernel
def test_without_landlock(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(landlock, "abi_version", lambda: 0)  # the kernel's answer, on a kernel without it
    code, text, data = report(capsys)
    assert code == 1
    assert layer(data, "landlock")["status"] == "missing"
    assert [p["status"] for p in layer(data, "landlock")["items"]] == ["missing"] * 3
    assert "this kernel offers no Landlock" in item(data, "landlock", "fs")["found"]
    assert (
        "risk: without Landlock, only the audit hook keeps a candidate to its files: code that gets around "
        "it could read loopterm's source"
    ) in text
    assert (
        "risk: without Landlock's TCP rules (Linux < 6.7), a candidate relies on seccomp alone to be kept "
        "off the network"
    ) in text
    assert (
        "risk: without Landlock's signal scope (Linux < 6.12), a candidate relies on seccomp alone to be kept "
        "from signalling the warm process"
    ) in text
    assert layer(data, "seccomp")["status"] == "active"
    assert "6 of 7 layers active; not fully: Landlock (missing)" in text
    assert "SIMULATED" not in text  # a monkeypatched kernel probe is not the switch


@full_kernel
def test_a_kernel_before_6_12_lacks_the_signal_scope(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(doctor.ENV_SIMULATE, "landlock-abi=5")
    code, text, data = report(capsys)
    assert code == 1
    assert layer(data, "landlock")["status"] == "partial"
    assert [p["status"] for p in layer(data, "landlock")["items"]] == ["active", "active", "missing"]
    assert item(data, "landlock", "scope")["found"] == "needs ABI 6 (Linux 6.12+); this kernel has ABI 5 (simulated)"
    assert (
        "without Landlock's signal scope (Linux < 6.12), a candidate relies on seccomp alone to be kept from "
        "signalling the warm process"
    ) in text
    assert "SIMULATED (LOOPTERM_DOCTOR_SIMULATE=landlock-abi=5): not this machine's real report" in text
    assert data["simulated"] == ["landlock-abi=5"]


@full_kernel
def test_without_seccomp(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(seccomp, "supported", lambda: False)  # as on aarch64
    code, text, data = report(capsys)
    assert code == 1
    found = layer(data, "seccomp")
    assert found["status"] == "missing"
    assert found["found"].startswith("the filter is written for Linux x86-64")
    assert (
        "risk: without seccomp, code that gets around the audit hook can fork, exec programs, ptrace, mount "
        "and open any socket"
    ) in text
    assert "Landlock still refuses TCP and signals to other processes" in text
    assert layer(data, "landlock")["status"] == "active"
    if os.geteuid() == 0:  # root is not held by RLIMIT_NPROC: without seccomp nothing in the kernel stops forks
        assert item(data, "rlimits", "nproc")["status"] == "missing"
        assert "only the audit hook stands between a candidate and a fork bomb" in text
        assert "not fully: rlimits (partial), seccomp (missing)" in text
    else:
        assert item(data, "rlimits", "nproc")["status"] == "active"


@full_kernel
def test_without_landlock_and_seccomp_only_the_audit_hook_is_left(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(doctor.ENV_SIMULATE, "no-landlock, no-seccomp")
    code, text, data = report(capsys)
    assert code == 1
    assert data["simulated"] == ["no-landlock", "no-seccomp"]
    assert "only the audit hook keeps a candidate off the network" in text
    assert "only the audit hook keeps a candidate from signalling the warm process" in text
    assert "with no Landlock TCP or signal rules either, the audit hook is all that is left" in text
    assert layer(data, "audit-hook")["status"] == "active"


@full_kernel
def test_without_namespaces(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(doctor.ENV_SIMULATE, "no-namespaces")
    code, text, data = report(capsys)
    assert code == 1
    quota = layer(data, "quota")
    assert quota["status"] == "missing"
    assert "EPERM" in quota["found"]  # the kernel's own refusal, from the probe process
    assert (
        "risk: without the quota, a candidate can fill the disk up to the file-size limit (16 MiB) per file, "
        "with as many files as it likes"
    ) in text
    assert "6 of 7 layers active; not fully: quota (missing)" in text


def test_nothing_is_left_behind(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A temp dir of its own: another test process running doctor at the same time (xdist) must
    # not be taken for a leftover of this one.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    before_children, before_dirs = children(), leftovers()
    for switch in ("", "no-namespaces,landlock-abi=5", "no-landlock,no-seccomp"):
        doctor.diagnose(doctor.Simulation.parse(switch))
    assert children() <= before_children
    assert leftovers() <= before_dirs


def test_a_probe_that_hangs_is_killed_and_reaped() -> None:
    before = children()

    def hang() -> dict[str, Any]:
        time.sleep(30)  # the point: a probe that hangs
        return {}

    def fail() -> dict[str, Any]:
        raise RuntimeError("boom")

    assert doctor.in_child(hang, timeout_s=0.2) == {"error": "the probe process did not answer within 0.2 s"}
    assert doctor.in_child(fail) == {"error": "RuntimeError: boom"}
    assert doctor.in_child(lambda: {"a": 1}) == {"a": 1}
    assert children() <= before


@pytest.mark.parametrize("columns", [40, 80])
def test_fits_narrow_terminals_in_ascii(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], columns: int
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    monkeypatch.setenv(doctor.ENV_SIMULATE, "landlock-abi=5,no-seccomp")  # long risk lines
    _code, text = doctor_cli(capsys)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= columns
    assert text.isascii()
    assert any(line.startswith("  scopes") for line in lines)


def test_a_bad_switch_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv(doctor.ENV_SIMULATE, "no-kernel")
    assert main(["doctor"]) == 2
    err = capsys.readouterr().err
    assert "LOOPTERM_DOCTOR_SIMULATE: 'no-kernel' is not something to simulate" in err
    with pytest.raises(ValueError, match="whole number"):
        doctor.Simulation.parse("landlock-abi=x")


def test_help_names_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["doctor", "--help"])
    assert exit_info.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    assert "Exit 0 when every layer is active, 1 when any is missing or partial" in text
    assert "LOOPTERM_DOCTOR_SIMULATE=no-landlock,landlock-abi=N,no-seccomp,no-namespaces" in text
    assert doctor_command.ENV_SIMULATE == doctor.ENV_SIMULATE
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "doctor" in capsys.readouterr().out


def test_the_capabilities_layer_says_what_a_root_candidate_could_do_when_it_cannot_drop_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A kernel or container that refuses capset: the probe process still holds root's capabilities.
    from loopterm.sandbox import caps, doctor

    monkeypatch.setattr(caps, "drop_all", lambda: False)
    monkeypatch.setattr(caps, "held", lambda: 0x1FF)
    layer = doctor.probe_capabilities()
    assert layer.status == doctor.MISSING
    assert layer.risk is not None and "real-time policy" in layer.risk


@pytest.mark.skipif(os.geteuid() != 0, reason="only a root process starts with capabilities to drop")
def test_the_candidate_really_holds_no_capability(tmp_path: Path) -> None:
    from loopterm.sandbox import caps, doctor

    out = doctor.in_child(lambda: {"dropped": caps.drop_all(), "after": caps.held()})
    assert out == {"dropped": True, "after": 0}
