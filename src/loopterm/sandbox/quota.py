"""A size quota for the candidate's folder: a private tmpfs mounted over it, in the child only.

RLIMIT_FSIZE caps one file, not how many: a candidate writing many files could
fill the disk (3 GB in seconds). Here the child makes its own mount namespace
(as root: CLONE_NEWNS; otherwise with a user namespace of its own), keeps every
mount private so nothing leaks back to the machine, and mounts a tmpfs of
``size_mib`` over its working folder. Past the quota a write fails with ENOSPC
in the candidate alone. The mount lives and dies with the child's namespace:
nothing to clean up. Where namespaces are not allowed, :func:`private_tmpfs`
returns False and ``loopterm doctor`` says what is then missing.
"""

from __future__ import annotations

import ctypes
import os

CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
MS_REC = 0x4000
MS_PRIVATE = 1 << 18
MS_NOSUID, MS_NODEV, MS_NOEXEC = 0x2, 0x4, 0x8
INODES = 16384  # files and folders in the candidate's folder, at most


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def private_tmpfs(workdir: str, size_mib: int) -> bool:
    """Mount a ``size_mib`` tmpfs over ``workdir`` in a new mount namespace of this process."""
    if os.uname().sysname != "Linux":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return False
    uid, gid = os.geteuid(), os.getegid()
    if uid == 0:
        if libc.unshare(CLONE_NEWNS) != 0:
            return False
    else:
        if libc.unshare(CLONE_NEWUSER | CLONE_NEWNS) != 0:
            return False
        try:  # keep our own ids inside the new namespace
            _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"{uid} {uid} 1")
            _write("/proc/self/gid_map", f"{gid} {gid} 1")
        except OSError:
            return False
    if libc.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return False
    # nr_inodes: empty files cost kernel memory the size limit does not count.
    options = f"size={size_mib}m,nr_inodes={INODES},mode=0700".encode()
    flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
    mounted: int = libc.mount(b"tmpfs", os.fsencode(workdir), b"tmpfs", flags, options)
    return mounted == 0
