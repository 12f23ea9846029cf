"""Drop every Linux capability in the candidate process (it may be started by root).

A candidate forked from a root process keeps root's capabilities, and with
them things seccomp and Landlock do not cover because they act on the
process itself: a negative nice value or a real-time scheduling policy
(CAP_SYS_NICE, a busy loop that would then starve the runner and every
other lane), socket buffers past the system's limits (CAP_NET_ADMIN with
SO_SNDBUFFORCE), reading files whatever their modes (CAP_DAC_*). The child
drops them all, from its effective, permitted, inheritable, ambient and
bounding sets, right after it has mounted its quota (which needs
CAP_SYS_ADMIN) and before any candidate code runs. No exec follows (seccomp
refuses it), so nothing can bring them back.
"""

from __future__ import annotations

import ctypes
import os

_LINUX_CAPABILITY_VERSION_3 = 0x20080522
PR_CAPBSET_DROP = 24
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
LAST_CAP = 63


class _Header(ctypes.Structure):
    _fields_ = (("version", ctypes.c_uint32), ("pid", ctypes.c_int))


class _Data(ctypes.Structure):
    _fields_ = (("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32))


def drop_all() -> bool:
    """Drop every capability of this process; True when it holds none afterwards."""
    if os.uname().sysname != "Linux":
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return False
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    for cap in range(LAST_CAP + 1):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 and ctypes.get_errno() == 22:  # EINVAL: no such cap
            break
    header = _Header(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_Data * 2)()
    if libc.capset(ctypes.byref(header), data) != 0:
        return False
    return held() == 0


def held() -> int:
    """The effective capability set of this process, as a number (0: none)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("CapEff:"):
                    return int(line.split()[1], 16)
    except OSError:
        pass
    return -1
