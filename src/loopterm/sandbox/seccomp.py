"""A seccomp filter for the child: the kernel refuses what a candidate never needs.

Audit hooks and RLIMIT_NPROC do not stop a root process from forking (the
kernel does not apply RLIMIT_NPROC to root, and C code can skip the hook). This
filter does, for root too. Refused with EPERM:

- new processes: fork, vfork, clone without CLONE_THREAD (threads still work;
  clone3 answers ENOSYS so libc falls back to clone, whose flags we can see),
  execve, execveat;
- the network: socket() for anything but AF_UNIX (asyncio's self-pipe is a
  UNIX socket pair), connect, bind, listen, accept, sendto with an address;
- other processes: kill/tgkill outside this process, pidfd_open,
  pidfd_send_signal, pidfd_getfd, ptrace, process_vm_readv/writev,
  process_madvise, kcmp, migrate_pages, move_pages;
- memory no limit counts: memfd_create and memfd_secret (their pages are in
  no address space, so RLIMIT_AS never sees them);
- scheduling of anyone but itself: ioprio_set always; setpriority and
  sched_setparam/setscheduler/setaffinity/setattr only on "this thread" (0),
  so the warm process and the runner keep their priority and CPUs;
- the system: mount, namespaces, chroot, modules, bpf, perf, io_uring,
  keyrings, clocks, reboot, raising resource limits, changing owners, modes,
  extended attributes, making device nodes, opening files by handle.

Only x86-64 is supported (syscall numbers are per architecture); elsewhere
:func:`install` returns False and the other layers remain.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct

AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000
PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
RET_ALLOW, RET_ERRNO, RET_KILL_PROCESS = 0x7FFF0000, 0x00050000, 0x80000000
LD_W_ABS, JEQ_K, JGE_K, JSET_K, RET_K = 0x20, 0x15, 0x35, 0x45, 0x06
CLONE_THREAD = 0x00010000
AF_UNIX = 1

# x86-64 syscall numbers (arch/x86/entry/syscalls/syscall_64.tbl).
NR = {
    "socket": 41,
    "connect": 42,
    "accept": 43,
    "sendto": 44,
    "bind": 49,
    "listen": 50,
    "clone": 56,
    "fork": 57,
    "vfork": 58,
    "execve": 59,
    "kill": 62,
    "chmod": 90,
    "fchmod": 91,
    "chown": 92,
    "fchown": 93,
    "lchown": 94,
    "ptrace": 101,
    "setuid": 105,
    "setgid": 106,
    "setreuid": 113,
    "setregid": 114,
    "setgroups": 116,
    "setresuid": 117,
    "setresgid": 119,
    "setfsuid": 122,
    "setfsgid": 123,
    "mknod": 133,
    "personality": 135,
    "pivot_root": 155,
    "adjtimex": 159,
    "setrlimit": 160,
    "chroot": 161,
    "acct": 163,
    "settimeofday": 164,
    "mount": 165,
    "umount2": 166,
    "swapon": 167,
    "swapoff": 168,
    "reboot": 169,
    "sethostname": 170,
    "setdomainname": 171,
    "init_module": 175,
    "delete_module": 176,
    "quotactl": 179,
    "setxattr": 188,
    "lsetxattr": 189,
    "fsetxattr": 190,
    "removexattr": 197,
    "lremovexattr": 198,
    "fremovexattr": 199,
    "tkill": 200,
    "clock_settime": 227,
    "tgkill": 234,
    "kexec_load": 246,
    "add_key": 248,
    "request_key": 249,
    "keyctl": 250,
    "mknodat": 259,
    "fchownat": 260,
    "fchmodat": 268,
    "unshare": 272,
    "accept4": 288,
    "perf_event_open": 298,
    "prlimit64": 302,
    "name_to_handle_at": 303,
    "open_by_handle_at": 304,
    "clock_adjtime": 305,
    "setns": 308,
    "process_vm_readv": 310,
    "process_vm_writev": 311,
    "finit_module": 313,
    "kexec_file_load": 320,
    "bpf": 321,
    "execveat": 322,
    "userfaultfd": 323,
    "io_uring_setup": 425,
    "io_uring_enter": 426,
    "io_uring_register": 427,
    "clone3": 435,
    "fchmodat2": 452,
    "setpriority": 141,
    "sched_setparam": 142,
    "sched_setscheduler": 144,
    "sched_setaffinity": 203,
    "ioprio_set": 251,
    "migrate_pages": 256,
    "move_pages": 279,
    "kcmp": 312,
    "sched_setattr": 314,
    "pidfd_send_signal": 424,
    "pidfd_open": 434,
    "pidfd_getfd": 438,
    "process_madvise": 440,
    "memfd_create": 319,
    "memfd_secret": 447,
}
ALWAYS_DENIED = (
    "fork",
    "vfork",
    "execve",
    "execveat",
    "connect",
    "accept",
    "accept4",
    "bind",
    "listen",
    "tkill",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "chmod",
    "fchmod",
    "fchmodat",
    "fchmodat2",
    "chown",
    "fchown",
    "lchown",
    "fchownat",
    "setxattr",
    "lsetxattr",
    "fsetxattr",
    "removexattr",
    "lremovexattr",
    "fremovexattr",
    "mknod",
    "mknodat",
    "setuid",
    "setgid",
    "setreuid",
    "setregid",
    "setgroups",
    "setresuid",
    "setresgid",
    "setfsuid",
    "setfsgid",
    "personality",
    "pivot_root",
    "adjtimex",
    "setrlimit",
    "chroot",
    "acct",
    "settimeofday",
    "mount",
    "umount2",
    "swapon",
    "swapoff",
    "reboot",
    "sethostname",
    "setdomainname",
    "init_module",
    "delete_module",
    "finit_module",
    "quotactl",
    "clock_settime",
    "clock_adjtime",
    "kexec_load",
    "kexec_file_load",
    "add_key",
    "request_key",
    "keyctl",
    "unshare",
    "setns",
    "perf_event_open",
    "name_to_handle_at",
    "open_by_handle_at",
    "bpf",
    "userfaultfd",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "ioprio_set",
    "pidfd_open",
    "pidfd_send_signal",
    "pidfd_getfd",
    "process_madvise",
    "kcmp",
    "migrate_pages",
    "move_pages",
    "memfd_create",
    "memfd_secret",
)
# Allowed only when these arguments are all 0 ("this thread", PRIO_PROCESS of itself).
SELF_ONLY = {
    "setpriority": (0, 1),  # which == PRIO_PROCESS, who == 0
    "sched_setparam": (0,),
    "sched_setscheduler": (0,),
    "sched_setaffinity": (0,),
    "sched_setattr": (0,),
}


def supported() -> bool:
    return os.uname().sysname == "Linux" and platform.machine() in ("x86_64", "AMD64")


def _ins(code: int, jt: int, jf: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k & 0xFFFFFFFF)


def _arg_lo(i: int) -> int:
    return 16 + 8 * i  # offset of the low 32 bits of args[i] in struct seccomp_data (little-endian)


def _zero_args(indices: tuple[int, ...], deny: int) -> list[bytes]:
    """A block that allows the call when every listed argument (all 64 bits) is 0, else ``deny``."""
    block: list[bytes] = []
    tests = [offset for i in indices for offset in (_arg_lo(i), _arg_lo(i) + 4)]
    for n, offset in enumerate(tests):
        to_deny = 2 * (len(tests) - n) - 1  # past the remaining tests and the allow
        block += [_ins(LD_W_ABS, 0, 0, offset), _ins(JEQ_K, 0, to_deny, 0)]
    return [*block, _ins(RET_K, 0, 0, RET_ALLOW), _ins(RET_K, 0, 0, deny)]


def program(own_pid: int) -> list[bytes]:
    """The BPF program for a child whose pid is ``own_pid``."""
    deny = RET_ERRNO | errno.EPERM
    allow_rest: list[bytes] = []

    def when(name: str, block: list[bytes]) -> None:
        # if nr == name: run block (which always returns), else skip it
        allow_rest.append(_ins(JEQ_K, 0, len(block), NR[name]))
        allow_rest.extend(block)

    for name in ALWAYS_DENIED:
        when(name, [_ins(RET_K, 0, 0, deny)])
    when("clone3", [_ins(RET_K, 0, 0, RET_ERRNO | errno.ENOSYS)])
    # clone: threads only.
    when(
        "clone",
        [
            _ins(LD_W_ABS, 0, 0, _arg_lo(0)),
            _ins(JSET_K, 0, 1, CLONE_THREAD),
            _ins(RET_K, 0, 0, RET_ALLOW),
            _ins(RET_K, 0, 0, deny),
        ],
    )
    # socket: AF_UNIX only.
    when(
        "socket",
        [
            _ins(LD_W_ABS, 0, 0, _arg_lo(0)),
            _ins(JEQ_K, 0, 1, AF_UNIX),
            _ins(RET_K, 0, 0, RET_ALLOW),
            _ins(RET_K, 0, 0, deny),
        ],
    )
    # sendto: only on a connected socket (no address).
    when(
        "sendto",
        [
            _ins(LD_W_ABS, 0, 0, _arg_lo(4)),
            _ins(JEQ_K, 0, 3, 0),
            _ins(LD_W_ABS, 0, 0, _arg_lo(4) + 4),
            _ins(JEQ_K, 0, 1, 0),
            _ins(RET_K, 0, 0, RET_ALLOW),
            _ins(RET_K, 0, 0, deny),
        ],
    )
    # kill: this process, its own group (0 or -pid), nobody else.
    when(
        "kill",
        [
            _ins(LD_W_ABS, 0, 0, _arg_lo(0)),
            _ins(JEQ_K, 2, 0, own_pid),
            _ins(JEQ_K, 1, 0, 0),
            _ins(JEQ_K, 0, 1, -own_pid),
            _ins(RET_K, 0, 0, RET_ALLOW),
            _ins(RET_K, 0, 0, deny),
        ],
    )
    # tgkill: threads of this process only.
    when(
        "tgkill",
        [
            _ins(LD_W_ABS, 0, 0, _arg_lo(0)),
            _ins(JEQ_K, 0, 1, own_pid),
            _ins(RET_K, 0, 0, RET_ALLOW),
            _ins(RET_K, 0, 0, deny),
        ],
    )
    # prlimit64: reading limits (new_limit == NULL) only.
    when(
        "prlimit64",
        [
            _ins(LD_W_ABS, 0, 0, _arg_lo(2)),
            _ins(JEQ_K, 0, 3, 0),
            _ins(LD_W_ABS, 0, 0, _arg_lo(2) + 4),
            _ins(JEQ_K, 0, 1, 0),
            _ins(RET_K, 0, 0, RET_ALLOW),
            _ins(RET_K, 0, 0, deny),
        ],
    )
    for name, indices in SELF_ONLY.items():
        when(name, _zero_args(indices, deny))
    head = [
        _ins(LD_W_ABS, 0, 0, 4),  # arch
        _ins(JEQ_K, 1, 0, AUDIT_ARCH_X86_64),
        _ins(RET_K, 0, 0, RET_KILL_PROCESS),
        _ins(LD_W_ABS, 0, 0, 0),  # syscall number
        _ins(JGE_K, 0, 1, X32_SYSCALL_BIT),  # the x32 ABI would dodge every number below
        _ins(RET_K, 0, 0, deny),
    ]
    return [*head, *allow_rest, _ins(RET_K, 0, 0, RET_ALLOW)]


class _SockFprog(ctypes.Structure):
    _fields_ = (("len", ctypes.c_ushort), ("filter", ctypes.c_void_p))


def install() -> bool:
    """Install the filter on this thread (and the threads it starts). False when unsupported."""
    if not supported():
        return False
    code = b"".join(program(os.getpid()))
    buf = ctypes.create_string_buffer(code, len(code))
    prog = _SockFprog(len(code) // 8, ctypes.cast(buf, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"seccomp filter: {os.strerror(ctypes.get_errno())}")
    return True
