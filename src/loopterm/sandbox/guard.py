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

import _stat
import os
import posix
import socket
import sys
import types
from collections.abc import Callable
from typing import Any

from loopterm.sandbox.policy import Policy

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
        "sys.settrace",
        "sys.setprofile",
    }
)
DENY_PREFIXES = (
    "ctypes.",
    "socket.",
    "http.client.",
    "ftplib.",
    "smtplib.",
    "poplib.",
    "imaplib.",
    "nntplib.",
    "telnetlib.",
    "winreg.",
    "_winapi.",
)
# Modules whose import would hand out process creation or raw memory access.
DENY_IMPORTS = frozenset({"ctypes", "_ctypes", "_posixsubprocess", "readline", "_gdbm", "_dbm", "dbm.gnu", "dbm.ndbm"})
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
# The same two tables as tuples, for the hook to hold (a dict could be changed in place).
_WRITE_EVENT_ITEMS = tuple(WRITE_PATH_EVENTS.items())
_DIR_FD_ITEMS = tuple(DIR_FD_ARGS.items())
# An unused dir_fd shows up as -1 in these events (None for shutil.rmtree).
UNUSED_DIR_FD = -1
# Function attributes whose change would change what a function does.
FROZEN_FUNCTION_ATTRS = frozenset({"__code__", "__defaults__", "__kwdefaults__"})
MAX_LINKS = 40  # symlinks followed while resolving one path, as the kernel allows
READ_PATH_EVENTS = frozenset({"os.listdir", "os.scandir"})
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


class SandboxDenied(PermissionError):
    """Raised into candidate code for an operation the sandbox refuses."""


def _blocked(what: str) -> SandboxDenied:
    return SandboxDenied(f"blocked by the loopterm sandbox: {what}")


def _real_path(
    path: str,
    _lstat: Any = posix.lstat,
    _readlink: Any = posix.readlink,
    _getcwd: Any = posix.getcwd,
    _is_link: Any = _stat.S_ISLNK,
    _os_error: Any = OSError,
    _reversed: Any = reversed,
    _list: Any = list,
) -> str:
    """``os.path.realpath`` from C functions only, bound at definition.

    ``posixpath.realpath`` is Python that looks up ``os``, ``stat`` and its own
    helpers in module globals at each call, which a candidate can replace to
    make the hook see a path other than the one opened. This copy has nothing
    to look up: its defaults are C functions and builtins, held here.
    """
    if not path.startswith("/"):
        path = _getcwd() + "/" + path
    todo = _list(_reversed(path.split("/")))
    resolved = ""  # "" is the root
    links = 0
    while todo:
        name = todo.pop()
        if name == "" or name == ".":
            continue
        if name == "..":
            resolved = resolved[: resolved.rfind("/")] if resolved else ""
            continue
        step = resolved + "/" + name
        try:
            mode = _lstat(step).st_mode
        except _os_error:
            resolved = step  # not there (yet): taken literally, as realpath does
            continue
        if not _is_link(mode) or links >= MAX_LINKS:
            resolved = step
            continue
        links += 1
        target = _readlink(step)
        if target.startswith("/"):
            resolved = ""
        todo.extend(_reversed(target.split("/")))
    return resolved or "/"


def _is_dir(path: str, _stat_fn: Any = posix.stat, _s_isdir: Any = _stat.S_ISDIR, _os_error: Any = OSError) -> bool:
    try:
        return bool(_s_isdir(_stat_fn(path).st_mode))
    except _os_error:
        return False


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root + "/") or (root == "/" and path.startswith("/"))


def _resolve(
    path: Any,
    _real: Any = _real_path,
    _fspath: Any = posix.fspath,
    _type: Any = type,
    _str: Any = str,
    _bytes: Any = bytes,
    _int: Any = int,
    _isinstance: Any = isinstance,
) -> str | None:
    """The real path ``path`` names; None for an fd; "?" for what cannot be a path (never allowed)."""
    if _isinstance(path, _int):
        return None  # an fd the process already holds
    if _type(path) is not _str and _type(path) is not _bytes:
        try:
            path = _fspath(path)
        except Exception:
            return "?"
    if _type(path) is _bytes:
        path = path.decode("utf-8", "surrogateescape")
    return _real(path) if _type(path) is _str else "?"


def _may_read(
    real: str, workdir: str, read_files: frozenset[str], read_dirs: tuple[str, ...], _within: Any = _within
) -> bool:
    if _within(real, workdir) or real in read_files:
        return True
    for folder in read_dirs:  # noqa: SIM110 (any() would be a builtin looked up at call time)
        if _within(real, folder):
            return True
    return False


def make_hook(policy: Policy, own_pid: int) -> Callable[[str, tuple[Any, ...]], None]:
    """The hook function for ``policy`` (installed by :func:`install`; tests call it directly).

    Everything it needs is bound as a positional default when it is made, and
    so are its helpers' needs: no module globals, no builtins looked up at call
    time, no closure cells (whose contents Python lets anyone rewrite). The
    hook refuses every change of a function's ``__code__``, ``__defaults__``
    or ``__kwdefaults__``, its own and its helpers' included, and every trace
    or profile function (which could rewrite a running frame's locals).
    """

    def hook(
        event: str,
        args: tuple[Any, ...],
        _workdir: str = policy.workdir,
        _read_dirs: tuple[str, ...] = tuple(policy.read_dirs),
        _read_files: frozenset[str] = frozenset(policy.read_files),
        _write_files: frozenset[str] = frozenset(policy.write_files),
        _deny_events: frozenset[str] = DENY_EVENTS,
        _deny_prefixes: tuple[str, ...] = DENY_PREFIXES,
        _deny_imports: frozenset[str] = DENY_IMPORTS,
        _write_events: Any = _WRITE_EVENT_ITEMS,
        _dir_fd_args: Any = _DIR_FD_ITEMS,
        _read_events: frozenset[str] = READ_PATH_EVENTS,
        _frozen_attrs: frozenset[str] = FROZEN_FUNCTION_ATTRS,
        _own_pid: int = own_pid,
        _af_unix: int = socket.AF_UNIX,
        _write_flags: int = WRITE_FLAGS,
        _resolve: Any = _resolve,
        _within: Any = _within,
        _may_read: Any = _may_read,
        _denied: Any = SandboxDenied,
        _str: Any = str,
        _int: Any = int,
        _isinstance: Any = isinstance,
        _len: Any = len,
        _getattr: Any = getattr,
        _code_type: Any = types.CodeType,
        _is_dir: Any = _is_dir,
    ) -> None:
        prefix = "blocked by the loopterm sandbox: "
        if event == "open":
            path, mode, flags = args
            real = _resolve(path)
            if real is None:
                return
            if (_isinstance(flags, _int) and flags & _write_flags) or (
                _isinstance(mode, _str) and ("w" in mode or "a" in mode or "x" in mode or "+" in mode)
            ):
                if not (_within(real, _workdir) or real in _write_files):
                    raise _denied(f"{prefix}changing {real} (a candidate may write only in its own working folder)")
            elif not _may_read(real, _workdir, _read_files, _read_dirs):
                raise _denied(f"{prefix}reading {real} (outside the Python installation and the working folder)")
            elif not _within(real, _workdir) and _is_dir(real):
                # A folder fd would let `dir_fd=` (which "open" does not report) reach around these checks.
                raise _denied(f"{prefix}opening the folder {real}")
            return
        if event == "object.__setattr__":
            if _len(args) >= 3 and args[1] in _frozen_attrs:
                old = _getattr(args[0], "__code__", None)
                new = args[2]
                # types.coroutine only flips a flag of the same code, which is harmless.
                if not (
                    args[1] == "__code__"
                    and _isinstance(old, _code_type)
                    and _isinstance(new, _code_type)
                    and new.replace(co_flags=old.co_flags) == old
                ):
                    raise _denied(f"{prefix}changing a function's {args[1]}")
            return
        for name, indices in _write_events:
            if name != event:
                continue
            for fd_event, fd_indices in _dir_fd_args:
                if fd_event == event:
                    for i in fd_indices:
                        if i < _len(args) and args[i] is not None and args[i] != -1:
                            raise _denied(f"{prefix}{event} relative to a folder descriptor (dir_fd)")
            for i in indices:
                if i >= _len(args) or (event == "sqlite3.connect" and args[i] in (":memory:", b":memory:", "")):
                    continue
                real = _resolve(args[i])
                if real is not None and not (_within(real, _workdir) or real in _write_files):
                    raise _denied(f"{prefix}changing {real} (a candidate may write only in its own working folder)")
            return
        if event in _read_events:
            if args and args[0] is not None:
                real = _resolve(args[0])
                if real is not None and not _may_read(real, _workdir, _read_files, _read_dirs):
                    raise _denied(f"{prefix}reading {real} (outside the Python installation and the working folder)")
            return
        if event == "import":
            if args[0] in _deny_imports:
                raise _denied(f"{prefix}importing {args[0]}")
            return
        if event == "socket.__new__":
            if args[1] != _af_unix:
                raise _denied(
                    f"{prefix}opening a network socket (the candidate is served over its own socket, no network)"
                )
            return
        if event == "os.kill":
            pid = args[0]
            if pid != _own_pid and pid != 0 and pid != -_own_pid:
                raise _denied(f"{prefix}sending a signal to process {pid}")
            return
        if event == "os.killpg":
            if args[0] != _own_pid and args[0] != 0:
                raise _denied(f"{prefix}sending a signal to process group {args[0]}")
            return
        if event in _deny_events or event.startswith(_deny_prefixes):
            raise _denied(
                f"{prefix}{event} (no processes, network, ctypes, tracing or limit changes inside the sandbox)"
            )

    return hook


def install(policy: Policy) -> None:
    """Install the hook for the rest of this process's life."""
    _neuter_fork_exec()
    _self_only_process_calls(os.getpid())
    sys.addaudithook(make_hook(policy, os.getpid()))


# Calls that act on another process and raise no audit event: (module, name, index of the pid argument).
# The candidate may use them on itself (0 or its own pid); pidfd calls never.
SELF_ONLY_CALLS = (("setpriority", 1), ("sched_setaffinity", 0), ("sched_setscheduler", 0), ("sched_setparam", 0))
NEVER_CALLS = (
    ("os", "pidfd_open"),
    ("signal", "pidfd_send_signal"),
    ("os", "process_vm_readv"),
    ("os", "process_vm_writev"),
)


def _self_only_process_calls(own_pid: int) -> None:
    """A clear error (seccomp refuses them anyway) for priority, scheduling and pidfd calls on others."""
    import posix
    import signal

    modules = {"os": (os, posix), "signal": (signal,)}

    def self_only(name: str, index: int, original: Any) -> Any:
        def call(
            *args: Any,
            _original: Any = original,
            _index: int = index,
            _own: int = own_pid,
            _len: Any = len,
            _denied: Any = SandboxDenied,
        ) -> Any:
            if _len(args) > _index and args[_index] not in (0, _own):
                raise _denied(f"blocked by the loopterm sandbox: {name} on process {args[_index]}")
            return _original(*args)

        return call

    def never(name: str) -> Any:
        def call(*_args: Any, _denied: Any = SandboxDenied) -> Any:
            raise _denied(f"blocked by the loopterm sandbox: {name} (another process)")

        return call

    for name, index in SELF_ONLY_CALLS:
        original = getattr(posix, name, None)
        if original is not None:
            for module in modules["os"]:
                setattr(module, name, self_only(name, index, original))
    for where, name in NEVER_CALLS:
        for module in modules[where]:
            if hasattr(module, name):
                setattr(module, name, never(name))


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
