"""Linux Landlock for the child: the kernel enforces the file, TCP and signal rules.

Landlock (Linux 5.13+, unprivileged, works as root too) restricts the calling
thread and everything it starts afterwards. The child applies it right after
the fork, while it is still single-threaded:

- files: read only under ``Policy.read_dirs`` / ``read_files``; create, write,
  truncate, delete and rename only in its own working folder (``/dev/null``
  may be written). Device nodes cannot be made anywhere.
- network (ABI 4+, Linux 6.7): no TCP bind or connect at all.
- scope (ABI 6+, Linux 6.12): no signals to processes outside the sandbox, no
  abstract UNIX sockets outside it.

Missing kernel support is not an error: :func:`restrict` returns what it
enforced, and the audit hook still applies the same rules in Python.
"""

from __future__ import annotations

import ctypes
import os

from loopterm.sandbox.policy import Policy

SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446  # the same on every architecture
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH = 1
PR_SET_NO_NEW_PRIVS = 38

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1
FILE_ONLY = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV


class _RulesetAttr(ctypes.Structure):
    _fields_ = (
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    )


class _PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = (("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32))


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    return libc


def abi_version() -> int:
    """Landlock ABI version of the running kernel; 0 when it has none (or is not Linux)."""
    if os.uname().sysname != "Linux":
        return 0
    try:
        version = _libc().syscall(SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION))
    except (OSError, AttributeError):
        return 0
    return max(0, int(version))


def _fs_rights(abi: int) -> int:
    rights = (1 << 13) - 1  # EXECUTE .. MAKE_SYM, ABI 1
    if abi >= 2:
        rights |= REFER
    if abi >= 3:
        rights |= TRUNCATE
    if abi >= 5:
        rights |= IOCTL_DEV
    return rights


class LandlockError(OSError):
    pass


def restrict(policy: Policy, abi: int | None = None) -> list[str]:
    """Restrict this thread (and its future threads) to ``policy``; returns what is enforced."""
    abi = abi_version() if abi is None else abi
    if abi < 1:
        return []
    libc = _libc()
    handled_fs = _fs_rights(abi)
    attr = _RulesetAttr(handled_fs, 0, 0)
    enforced = ["landlock-fs"]
    if abi >= 4:
        attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP
        enforced.append("landlock-tcp")
    if abi >= 6:
        attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL
        enforced.append("landlock-scope")
    ruleset = libc.syscall(
        SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(ctypes.sizeof(attr)), ctypes.c_uint32(0)
    )
    if ruleset < 0:
        raise LandlockError(ctypes.get_errno(), f"landlock_create_ruleset: {os.strerror(ctypes.get_errno())}")
    try:
        read = READ_FILE | READ_DIR
        for path in policy.read_dirs:
            _allow(libc, ruleset, path, read & handled_fs)
        for path in policy.read_files:
            _allow(libc, ruleset, path, READ_FILE)
        for path in policy.write_files:
            _allow(libc, ruleset, path, (READ_FILE | WRITE_FILE | TRUNCATE) & handled_fs)
        _allow(libc, ruleset, policy.workdir, handled_fs & ~(MAKE_CHAR | MAKE_BLOCK))
        if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            raise LandlockError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
        if libc.syscall(SYS_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)) != 0:
            raise LandlockError(ctypes.get_errno(), f"landlock_restrict_self: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(ruleset)
    return enforced


def _allow(libc: ctypes.CDLL, ruleset: int, path: str, access: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # a path that is not there needs no rule
    try:
        if not os.path.isdir(path):
            access &= FILE_ONLY
        rule = _PathBeneathAttr(access, fd)
        if (
            libc.syscall(SYS_ADD_RULE, ruleset, ctypes.c_int(RULE_PATH_BENEATH), ctypes.byref(rule), ctypes.c_uint32(0))
            != 0
        ):
            raise LandlockError(ctypes.get_errno(), f"landlock_add_rule {path}: {os.strerror(ctypes.get_errno())}")
    finally:
        os.close(fd)
