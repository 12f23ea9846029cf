"""Which paths a candidate may read and write: shared by Landlock and the audit hook."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

# System files ordinary Python code reads at run time (time zone, user names for
# expanduser, the dynamic loader's cache for extension modules, mime types).
SYSTEM_READ_FILES = (
    "/etc/localtime",
    "/etc/timezone",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/ld.so.cache",
    "/etc/mime.types",
    "/dev/null",
    "/dev/zero",
    "/dev/urandom",
    "/dev/random",
)
# Shared libraries, zoneinfo, locales, CPU count.
SYSTEM_READ_DIRS = ("/usr", "/lib", "/lib32", "/lib64", "/etc/ld.so.conf.d", "/sys/devices/system/cpu")
# Files a candidate may open for writing outside its folder (harmless sinks).
WRITE_FILES = ("/dev/null",)


@dataclass(frozen=True)
class Policy:
    """The candidate's view of the file system.

    ``workdir`` is its fresh temp folder (read, write, delete). Everything under
    ``read_dirs`` and the ``read_files`` themselves may be read; nothing else.
    """

    workdir: str
    read_dirs: tuple[str, ...]
    read_files: tuple[str, ...]
    write_files: tuple[str, ...] = WRITE_FILES

    def with_workdir(self, workdir: str, proc_self: str | None = None) -> Policy:
        """The same policy for one child: its own folder and its own ``/proc/<pid>``."""
        extra = (proc_self,) if proc_self else ()
        return Policy(os.path.realpath(workdir), self.read_dirs + extra, self.read_files, self.write_files)


def _real(path: str) -> str | None:
    try:
        real = os.path.realpath(path)
    except OSError:
        return None
    return real if os.path.exists(real) else None


def base_policy(extra_dirs: tuple[str, ...] = (), exclude: tuple[str, ...] = ()) -> Policy:
    """The read allowlist for this Python: its installation, its import path, system libs.

    ``exclude`` are paths a candidate must not read even where they sit inside
    an allowed folder: the worker's own folder (the other candidates' folders),
    loopterm's own source, the task's spec and validation folders, the trace,
    cache and config folders. An allowed folder that holds one of them is
    replaced by its entries, minus the excluded path (Landlock can only allow,
    so a hole is made by allowing everything around it).
    """
    dirs: set[str] = set()
    candidates = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *sys.path]
    candidates += list(SYSTEM_READ_DIRS) + list(extra_dirs)
    excluded = {real for e in exclude if (real := _real(e)) is not None}
    for entry in candidates:
        if not entry:
            continue
        real = _real(entry)
        if real is None or real == "/" or any(is_within(real, e) for e in excluded):
            continue
        if os.path.isdir(real):
            dirs.add(real)
    files = {r for f in SYSTEM_READ_FILES if (r := _real(f)) is not None}
    # Keep only the outermost folders: fewer Landlock rules, same coverage.
    kept: list[str] = []
    for d in sorted(dirs, key=len):
        if not any(is_within(d, k) for k in kept):
            kept.append(d)
    read_dirs: list[str] = []
    for d in kept:
        _around(d, excluded, read_dirs, files)
    return Policy(workdir="", read_dirs=tuple(sorted(read_dirs)), read_files=tuple(sorted(files)))


def _around(folder: str, excluded: set[str], dirs: list[str], files: set[str]) -> None:
    """Allow ``folder``, or when an excluded path lies inside it, everything in it but that path."""
    if not any(is_within(e, folder) for e in excluded):
        dirs.append(folder)
        return
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for entry in entries:
        path = os.path.join(folder, entry.name)
        if path in excluded:
            continue
        if entry.is_dir(follow_symlinks=False):
            _around(path, excluded, dirs, files)
        elif entry.is_file(follow_symlinks=False):
            files.add(path)


def is_within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def loopterm_src_dir() -> str:
    """The folder that holds the ``loopterm`` package (for the worker's PYTHONPATH)."""
    return str(Path(__file__).resolve().parent.parent.parent)
