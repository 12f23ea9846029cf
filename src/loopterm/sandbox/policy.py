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

    ``exclude`` drops import-path entries that must not be readable (the worker's
    own folder, which holds the other candidates' folders).
    """
    dirs: set[str] = set()
    candidates = [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix, *sys.path]
    candidates += list(SYSTEM_READ_DIRS) + list(extra_dirs)
    excluded = {os.path.realpath(e) for e in exclude}
    for entry in candidates:
        if not entry:
            continue
        real = _real(entry)
        if real is None or real in excluded or real == "/":
            continue
        if os.path.isdir(real):
            dirs.add(real)
    files = tuple(sorted({r for f in SYSTEM_READ_FILES if (r := _real(f)) is not None}))
    # Keep only the outermost folders: fewer Landlock rules, same coverage.
    outer = sorted(dirs, key=len)
    kept: list[str] = []
    for d in outer:
        if not any(d == k or d.startswith(k.rstrip("/") + "/") for k in kept):
            kept.append(d)
    return Policy(workdir="", read_dirs=tuple(sorted(kept)), read_files=files)


def is_within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def loopterm_src_dir() -> str:
    """The folder that holds the ``loopterm`` package (for the worker's PYTHONPATH)."""
    return str(Path(__file__).resolve().parent.parent.parent)
