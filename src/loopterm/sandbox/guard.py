"""The audit hook that fences the candidate in at the Python level.

Installed in the forked child just before the candidate is loaded, it stays
for the life of that process (audit hooks cannot be removed). It refuses:
process creation (fork, exec, spawn, subprocess, os.system), signals to other
processes, every network operation (only the AF_UNIX socket pair asyncio needs
for its self-pipe is allowed), ctypes, raising resource limits, walking the
heap to find this hook (gc.get_objects/get_referrers), writing, deleting or
renaming anything outside the candidate's folder, and reading files outside
the Python installation and a few system files (``Policy``).

Python audit hooks are not a security boundary on their own: C extensions and
clever introspection can get around them. On Linux, Landlock and seccomp (see
``landlock.py`` and ``seccomp.py``) enforce the same rules in the kernel; this
hook is what gives a candidate a clear Python error instead of EPERM, and what
protects where those are missing.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable
from typing import Any

from loopterm.sandbox.policy import Policy, is_within

# Events refused whatever their arguments.
DENY_EVENTS = frozenset(
    {
        "os.system",
        "os.fork",
        "os.forkpty",
        "os.posix_spawn",
        "os.spawn",
        "os.exec",
        "os.startfile",
        "pty.spawn",
        "subprocess.Popen",
        "resource.setrlimit",
        "resource.prlimit",
        "gc.get_objects",
        "gc.get_referrers",
        "gc.get_referents",
        "sqlite3.enable_load_extension",
        "sqlite3.load_extension",
        "webbrowser.open",
        "urllib.Request",
        "sys.remote_exec",
    }
)
DENY_PREFIXES = ("ctypes.", "socket.", "http.client.", "ftplib.", "smtplib.", "poplib.", "imaplib.",
                 "nntplib.", "telnetlib.", "winreg.", "_winapi.")
# Modules whose import would hand out process creation or raw memory access.
DENY_IMPORTS = frozenset({"ctypes", "_ctypes", "_posixsubprocess", "readline", "_gdbm", "_dbm", "dbm.gnu",
                          "dbm.ndbm"})
# Events whose listed arguments are paths the candidate wants to change.
WRITE_PATH_EVENTS: dict[str, tuple[int, ...]] = {
    "os.remove": (0,),
    "os.rmdir": (0,),
    "os.mkdir": (0,),
    "os.rename": (0, 1),
    "os.link": (0, 1),
    "os.symlink": (1,),
    "os.chmod": (0,),
    "os.chown": (0,),
    "os.chflags": (0,),
    "os.lchflags": (0,),
    "os.lchmod": (0,),
    "os.utime": (0,),
    "os.truncate": (0,),
    "os.setxattr": (0,),
    "os.removexattr": (0,),
    "shutil.rmtree": (0,),
    "shutil.copyfile": (1,),
    "shutil.copymode": (1,),
    "shutil.copystat": (1,),
    "shutil.copytree": (1,),
    "shutil.move": (0, 1),
    "shutil.chown": (0,),
    "shutil.make_archive": (0,),
    "shutil.unpack_archive": (1,),
    "sqlite3.connect": (0,),
}
# Where events carry a ``dir_fd``: a path relative to a folder the hook cannot see.
DIR_FD_ARGS: dict[str, tuple[int, ...]] = {
    "os.remove": (1,),
    "os.rmdir": (1,),
    "os.mkdir": (2,),
    "os.rename": (2, 3),
    "os.link": (2, 3),
    "os.symlink": (2,),
    "os.chmod": (2,),
    "os.chown": (3,),
    "os.utime": (3,),
    "shutil.rmtree": (1,),
}
# An unused dir_fd shows up as -1 in these events (None for shutil.rmtree).
UNUSED_DIR_FD = -1
READ_PATH_EVENTS = frozenset({"os.listdir", "os.scandir"})
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class SandboxDenied(PermissionError):
    """Raised into candidate code for an operation the sandbox refuses."""


def _blocked(what: str) -> SandboxDenied:
    return SandboxDenied(f"blocked by the loopterm sandbox: {what}")


def make_hook(policy: Policy, own_pid: int) -> Callable[[str, tuple[Any, ...]], None]:
    """The hook function for ``policy`` (installed by :func:`install`; tests call it directly)."""
    # Bind everything the hook needs now: it must not look anything up in module
    # globals or builtins, which the candidate can replace.
    realpath, fsdecode, isdir = os.path.realpath, os.fsdecode, os.path.isdir
    within, as_int, as_str, as_bytes = is_within, int, str, bytes
    is_instance, path_like = isinstance, os.PathLike
    workdir = policy.workdir
    read_dirs, read_files, write_files = policy.read_dirs, frozenset(policy.read_files), frozenset(policy.write_files)
    deny_events, deny_prefixes, deny_imports = DENY_EVENTS, DENY_PREFIXES, DENY_IMPORTS
    write_events, dir_fd_args, read_events = WRITE_PATH_EVENTS, DIR_FD_ARGS, READ_PATH_EVENTS
    unused_dir_fds = (None, UNUSED_DIR_FD)
    af_unix, write_flags, blocked = socket.AF_UNIX, WRITE_FLAGS, _blocked
    own_group = own_pid  # the child called setsid(), so its group id is its pid
    me: list[Callable[..., None]] = []

    def resolve(path: Any) -> str | None:
        if is_instance(path, as_int):
            return None  # an fd the process already holds
        if not is_instance(path, (as_str, as_bytes, path_like)):
            return None
        return realpath(fsdecode(path))

    def may_write(real: str) -> bool:
        return within(real, workdir) or real in write_files

    def may_read(real: str) -> bool:
        if within(real, workdir) or real in read_files:
            return True
        return any(within(real, d) for d in read_dirs)

    def check_write(path: Any) -> None:
        real = resolve(path)
        if real is not None and not may_write(real):
            raise blocked(f"changing {real} (a candidate may write only in its own working folder)")

    def check_read(path: Any, is_open: bool = False) -> None:
        real = resolve(path)
        if real is None:
            return
        if not may_read(real):
            raise blocked(f"reading {real} (outside the Python installation and the working folder)")
        # A folder fd opened outside would let `dir_fd=` reach around the path checks.
        if is_open and not within(real, workdir) and isdir(real):
            raise blocked(f"opening the folder {real}")

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if event == "open":
            path, mode, flags = args
            if (is_instance(flags, as_int) and flags & write_flags) or (
                is_instance(mode, as_str) and ("w" in mode or "a" in mode or "x" in mode or "+" in mode)
            ):
                check_write(path)
            else:
                check_read(path, is_open=True)
            return
        if event in write_events:
            for i in dir_fd_args.get(event, ()):
                if i < len(args) and args[i] not in unused_dir_fds:
                    raise blocked(f"{event} relative to a folder descriptor (dir_fd)")
            for i in write_events[event]:
                if i < len(args) and not (event == "sqlite3.connect" and args[i] in (":memory:", b":memory:", "")):
                    check_write(args[i])
            return
        if event in read_events:
            if args and args[0] is not None:
                check_read(args[0])
            return
        if event == "import":
            if args[0] in deny_imports:
                raise blocked(f"importing {args[0]}")
            return
        if event == "socket.__new__":
            if args[1] != af_unix:
                raise blocked("opening a network socket (the candidate is served in-process, no network)")
            return
        if event == "os.kill":
            pid = args[0]
            if pid != own_pid and pid != 0 and pid != -own_group:
                raise blocked(f"sending a signal to process {pid}")
            return
        if event == "os.killpg":
            if args[0] != own_group and args[0] != 0:
                raise blocked(f"sending a signal to process group {args[0]}")
            return
        if event == "object.__setattr__":
            if args[0] is me[0]:
                raise blocked("changing the sandbox's audit hook")
            return
        if event in deny_events or event.startswith(deny_prefixes):
            raise blocked(f"{event} (no processes, network, ctypes or limit changes inside the sandbox)")

    me.append(hook)
    return hook


def install(policy: Policy) -> None:
    """Install the hook for the rest of this process's life."""
    _neuter_fork_exec()
    sys.addaudithook(make_hook(policy, os.getpid()))


def _neuter_fork_exec() -> None:
    # subprocess and multiprocessing fork through _posixsubprocess.fork_exec,
    # which raises no audit event of its own. Replace it before the hook goes
    # in; re-importing a fresh copy is then refused by the hook.
    module = sys.modules.get("_posixsubprocess")
    if module is None:
        return

    def fork_exec(*_args: Any, **_kwargs: Any) -> None:
        raise _blocked("starting a process")

    module.fork_exec = fork_exec  # type: ignore[attr-defined]
