"""Each protection layer on its own: the kernel layers in fresh processes, the audit hook directly.

The hostile-candidate tests exercise all layers together, where the audit
hook answers first. These prove that Landlock and seccomp hold by themselves
(for C code or a bypassed hook), and pin the hook's decisions one by one.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from loopterm.sandbox import guard, landlock, seccomp
from loopterm.sandbox.policy import Policy, base_policy

Hook = Callable[[str, tuple[Any, ...]], None]


def run_python(code: str, *args: str, cwd: Path) -> dict:
    """Run ``code`` in a fresh interpreter in ``cwd``; it prints one JSON object."""
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=60, cwd=cwd)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


PROBE = r"""
import errno, json, os, sys

def attempt(fn):
    try:
        fn()
        return "ok"
    except OSError as exc:
        return errno.errorcode.get(exc.errno, str(exc.errno))
    except ValueError:  # how resource.setrlimit reports EPERM
        return "ValueError"
"""


@pytest.mark.skipif(not seccomp.supported(), reason="seccomp filter is x86-64 Linux only")
def test_seccomp_stops_processes_and_sockets_but_not_threads_or_asyncio(tmp_path: Path) -> None:
    code = (
        PROBE
        + r"""
import asyncio, resource, socket, subprocess, threading
from loopterm.sandbox import seccomp
assert seccomp.install()
results = {}
results["fork"] = attempt(os.fork)
results["subprocess"] = attempt(lambda: subprocess.run(["true"]))
results["inet"] = attempt(lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM))
results["inet6"] = attempt(lambda: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM))
results["socketpair"] = attempt(lambda: socket.socketpair())
results["kill_parent"] = attempt(lambda: os.kill(os.getppid(), 0))
results["kill_self"] = attempt(lambda: os.kill(os.getpid(), 0))
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
results["raise_limit"] = attempt(lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard)))
open("probe.txt", "w").close()
results["chmod"] = attempt(lambda: os.chmod("probe.txt", 0o777))
box = []
t = threading.Thread(target=lambda: box.append(1)); t.start(); t.join()
results["thread"] = "ok" if box == [1] else "failed"
async def main():
    await asyncio.sleep(0)
    return await asyncio.get_running_loop().run_in_executor(None, lambda: 42)
results["asyncio"] = "ok" if asyncio.run(main()) == 42 else "failed"
print(json.dumps(results))
"""
    )
    results = run_python(code, cwd=tmp_path)
    assert results == {
        "fork": "EPERM",
        "subprocess": "EPERM",
        "inet": "EPERM",
        "inet6": "EPERM",
        "socketpair": "ok",
        "kill_parent": "EPERM",
        "kill_self": "ok",
        "raise_limit": "ValueError",
        "chmod": "EPERM",
        "thread": "ok",
        "asyncio": "ok",
    }


@pytest.mark.skipif(not seccomp.supported(), reason="seccomp filter is x86-64 Linux only")
def test_seccomp_keeps_priority_scheduling_and_pidfds_to_the_process_itself(tmp_path: Path) -> None:
    code = (
        PROBE
        + r"""
import signal
from loopterm.sandbox import seccomp
parent = os.getppid()
assert seccomp.install()
results = {}
results["setpriority_parent"] = attempt(lambda: os.setpriority(os.PRIO_PROCESS, parent, 10))
results["setpriority_user"] = attempt(lambda: os.setpriority(os.PRIO_USER, 0, 10))
results["setpriority_self"] = attempt(lambda: os.setpriority(os.PRIO_PROCESS, 0, 1))
results["affinity_parent"] = attempt(lambda: os.sched_setaffinity(parent, {0}))
results["affinity_self"] = attempt(lambda: os.sched_setaffinity(0, os.sched_getaffinity(0)))
results["scheduler_parent"] = attempt(lambda: os.sched_setscheduler(parent, os.SCHED_IDLE, os.sched_param(0)))
results["scheduler_self"] = attempt(lambda: os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0)))
results["pidfd_open"] = attempt(lambda: os.pidfd_open(parent))
print(json.dumps(results))
"""
    )
    before = os.getpriority(os.PRIO_PROCESS, os.getpid())
    results = run_python(code, cwd=tmp_path)
    assert results == {
        "setpriority_parent": "EPERM",
        "setpriority_user": "EPERM",
        "setpriority_self": "ok",
        "affinity_parent": "EPERM",
        "affinity_self": "ok",
        "scheduler_parent": "EPERM",
        "scheduler_self": "ok",
        "pidfd_open": "EPERM",
    }
    assert os.getpriority(os.PRIO_PROCESS, os.getpid()) == before


@pytest.mark.skipif(landlock.abi_version() < 1, reason="this kernel has no Landlock")
def test_landlock_confines_files_tcp_and_signals(tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("hunter2")
    outside = tmp_path / "outside.txt"
    abi = landlock.abi_version()
    code = (
        PROBE
        + r"""
import socket
from loopterm.sandbox import landlock
from loopterm.sandbox.policy import base_policy
workdir, secret, outside, port = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
policy = base_policy().with_workdir(workdir)
enforced = landlock.restrict(policy)
results = {"enforced": enforced}
results["write_outside"] = attempt(lambda: open(outside, "w"))
results["read_secret"] = attempt(lambda: open(secret).read())
results["write_inside"] = attempt(lambda: open(os.path.join(workdir, "x"), "w").write("x"))
results["devnull"] = attempt(lambda: open(os.devnull, "w").write("x"))
results["import"] = attempt(lambda: __import__("xml.dom.minidom"))
results["tcp"] = attempt(lambda: socket.create_connection(("127.0.0.1", port), timeout=2))
results["signal_parent"] = attempt(lambda: os.kill(os.getppid(), 0))
print(json.dumps(results))
"""
    )
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        results = run_python(code, str(workdir), str(secret), str(outside), str(port), cwd=tmp_path)
    assert not outside.exists()
    assert results["write_outside"] == "EACCES"
    assert results["read_secret"] == "EACCES"
    assert results["write_inside"] == "ok" and (workdir / "x").read_text() == "x"
    assert results["devnull"] == "ok"
    assert results["import"] == "ok"  # the Python installation stays readable
    if abi >= 4:
        assert "landlock-tcp" in results["enforced"] and results["tcp"] == "EACCES"
    if abi >= 6:
        assert "landlock-scope" in results["enforced"] and results["signal_parent"] == "EPERM"


# -- the audit hook's decisions, called directly --------------------------------------------


@pytest.fixture
def hook(tmp_path: Path) -> Hook:
    policy = base_policy().with_workdir(str(tmp_path))
    return guard.make_hook(policy, own_pid=4242)


def denied(hook, event: str, *args: object) -> bool:
    try:
        hook(event, args)
    except guard.SandboxDenied:
        return True
    return False


def test_hook_allows_the_working_folder_and_the_python_installation(hook: Hook, tmp_path: Path) -> None:
    assert not denied(hook, "open", str(tmp_path / "a.txt"), "w", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    assert not denied(hook, "open", os.__file__, "r", os.O_RDONLY)
    assert not denied(hook, "open", "/dev/null", "w", os.O_WRONLY)
    assert not denied(hook, "open", 5, "r", os.O_RDONLY)  # an fd it already holds
    assert not denied(hook, "os.rename", str(tmp_path / "a"), str(tmp_path / "b"), -1, -1)
    assert not denied(hook, "socket.__new__", None, socket.AF_UNIX, socket.SOCK_STREAM, 0)
    assert not denied(hook, "os.kill", 4242, 0)
    assert not denied(hook, "import", "json", None, [], [], [])
    assert not denied(hook, "compile", b"1", "<string>")


@pytest.mark.parametrize(
    ("event", "args"),
    [
        ("open", ("/etc/loopterm-test", "w", os.O_WRONLY | os.O_CREAT)),
        ("open", ("/etc/passwd", None, os.O_RDWR)),
        ("open", ("/proc/1/environ", "rb", os.O_RDONLY)),
        ("open", ("/root/.ssh/id_rsa", "r", os.O_RDONLY)),
        ("open", ("/etc", None, os.O_RDONLY)),  # a folder fd would make dir_fd tricks possible
        ("os.listdir", ("/root",)),
        ("os.remove", ("/etc/hosts", -1)),
        ("os.remove", ("x", 7)),
        ("os.rename", ("WORKDIR/a", "/tmp/elsewhere", -1, -1)),
        ("os.symlink", ("/etc", "link", 3)),
        ("shutil.rmtree", ("/home", None)),
        ("os.system", (b"sh",)),
        ("os.fork", ()),
        ("os.exec", ("/bin/sh", ["sh"], None)),
        ("os.posix_spawn", ("/bin/sh", ["sh"], {})),
        ("subprocess.Popen", ("sh", ["sh"], None, None)),
        ("socket.__new__", (None, socket.AF_INET, socket.SOCK_STREAM, 0)),
        ("socket.connect", (None, ("127.0.0.1", 80))),
        ("socket.getaddrinfo", ("example.com", 80, 0, 0, 0)),
        ("os.kill", (1, 9)),
        ("os.killpg", (1, 9)),
        ("ctypes.dlopen", ("libc.so.6",)),
        ("resource.setrlimit", (9, (1, 1))),
        ("gc.get_objects", (None,)),
        ("import", ("_posixsubprocess", None, [], [], [])),
        ("sqlite3.connect", ("/tmp/some.db",)),
    ],
)
def test_hook_refuses(hook: Hook, tmp_path: Path, event: str, args: tuple) -> None:
    args = tuple(str(tmp_path / a[8:]) if isinstance(a, str) and a.startswith("WORKDIR/") else a for a in args)
    assert denied(hook, event, *args)


def test_hook_refuses_changes_to_itself(hook: Hook) -> None:
    assert denied(hook, "object.__setattr__", hook, "__code__", (lambda *a: None).__code__)
    # Its helpers too, and any other function: a swapped __code__ or default turns a policy off.
    assert denied(hook, "object.__setattr__", guard._resolve, "__code__", (lambda *a: None).__code__)
    assert denied(hook, "object.__setattr__", guard._may_read, "__defaults__", (None,))
    assert denied(hook, "object.__setattr__", guard._real_path, "__kwdefaults__", {})
    assert denied(hook, "object.__setattr__", test_hook_refuses, "__code__", denied.__code__)
    # types.coroutine flips one flag of the same code: harmless, and asyncio does it.
    code = test_hook_refuses.__code__
    flagged = code.replace(co_flags=code.co_flags | 0x100)
    assert not denied(hook, "object.__setattr__", test_hook_refuses, "__code__", flagged)
    assert denied(hook, "sys.settrace", None)
    assert denied(hook, "sys.setprofile", None)


def test_hook_has_no_closure_cells_and_no_globals_to_patch(
    hook: Hook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import posixpath

    for function in (hook, guard._resolve, guard._may_read, guard._within, guard._real_path, guard._is_dir):
        assert function.__closure__ is None, function
    # What a candidate would patch to make the hook misjudge a path: the Python realpath's globals,
    # the builtins. The decisions stay the same.
    import builtins

    outside = "/root/.ssh/id_rsa"
    elsewhere = str(tmp_path / ".." / "elsewhere")
    monkeypatch.setattr(posixpath, "realpath", lambda p, **k: str(tmp_path / "x"))
    monkeypatch.setattr(posixpath, "_joinrealpath", lambda *a: (str(tmp_path / "x"), True), raising=False)
    real_isinstance, real_any = builtins.isinstance, builtins.any
    builtins.isinstance, builtins.any = (lambda *a: False), (lambda *a: True)
    try:  # restored at once: pytest itself needs the builtins
        refused = [denied(hook, "open", outside, "r", os.O_RDONLY), denied(hook, "open", elsewhere, "w", os.O_WRONLY)]
    finally:
        builtins.isinstance, builtins.any = real_isinstance, real_any
    assert refused == [True, True]


def test_the_hooks_realpath_agrees_with_os_path_realpath(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "f").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "rel").symlink_to("real/f")
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    for path in ("link/f", "rel", "link/../real/./f", "missing/../x", "loop", "link/nothere/y", "/", "/usr/../etc"):
        full = path if path.startswith("/") else str(tmp_path / path)
        assert guard._real_path(full) == os.path.realpath(full), path


def test_policy_reads_the_installation_but_not_the_worker_folder(tmp_path: Path) -> None:
    policy = base_policy(exclude=(str(tmp_path),))
    assert any(Path(os.__file__).resolve().is_relative_to(d) for d in policy.read_dirs)
    assert not any(Path(d).is_relative_to(tmp_path) for d in policy.read_dirs)
    assert "/" not in policy.read_dirs
    child = policy.with_workdir(str(tmp_path / "job"), "/proc/99")
    assert isinstance(child, Policy) and child.workdir.endswith("job") and "/proc/99" in child.read_dirs


def test_priority_scheduling_and_pidfd_calls_on_other_processes_are_refused_by_the_hook_layer() -> None:
    # In a forked child (the wrappers replace os/posix/signal functions for the rest of its life).
    script = """
import os, signal, sys
from loopterm.sandbox import guard
parent = os.getppid()
guard._self_only_process_calls(os.getpid())
out = []
for name, call in [
    ("setpriority-parent", lambda: os.setpriority(os.PRIO_PROCESS, parent, 5)),
    ("affinity-parent", lambda: os.sched_setaffinity(parent, {0})),
    ("pidfd_open", lambda: os.pidfd_open(parent)),
    ("pidfd_send_signal", lambda: signal.pidfd_send_signal(3, 0)),
    ("setpriority-self", lambda: os.setpriority(os.PRIO_PROCESS, 0, 1)),
    ("affinity-self", lambda: os.sched_setaffinity(0, os.sched_getaffinity(0))),
]:
    try:
        call()
        out.append(name + "=ok")
    except guard.SandboxDenied:
        out.append(name + "=denied")
print(" ".join(out))
"""
    import subprocess
    import sys

    before = os.getpriority(os.PRIO_PROCESS, os.getpid())
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == [
        "setpriority-parent=denied",
        "affinity-parent=denied",
        "pidfd_open=denied",
        "pidfd_send_signal=denied",
        "setpriority-self=ok",
        "affinity-self=ok",
    ], done.stderr
    assert os.getpriority(os.PRIO_PROCESS, os.getpid()) == before
