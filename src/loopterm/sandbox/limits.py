"""What a candidate may use: time, memory, files, output. One pydantic model."""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field


class Limits(BaseModel):
    """Per-validation limits of the sandbox. Defaults suit a real race; tests shrink the timeouts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    load_timeout_s: float = Field(
        10.0,
        gt=0,
        description="Wall-clock seconds the candidate gets to import and define `app`; "
        "past it the child is killed (an infinite loop at import ends here).",
    )
    run_timeout_s: float = Field(
        30.0,
        gt=0,
        description="Wall-clock seconds for the whole suite once the candidate has loaded; "
        "past it the child is killed and the checks that had not reported fail.",
    )
    check_timeout_s: float = Field(
        5.0,
        gt=0,
        description="Seconds one check may wait for the candidate (timed in the check runner); a "
        "handler that awaits forever fails that check only, one that blocks the server is stopped.",
    )
    concurrency: int = Field(16, ge=1, description="How many checks run at once against the candidate.")
    memory_mib: int = Field(
        1024,
        ge=64,
        description="Address-space limit of the child (RLIMIT_AS), MiB. Allocating past it raises "
        "MemoryError in the candidate.",
    )
    cpu_s: int | None = Field(
        None,
        ge=1,
        description="CPU seconds of the child (RLIMIT_CPU, all threads); None means the two "
        "timeouts plus 2 s, a backstop behind the wall clock.",
    )
    file_size_mib: int = Field(
        16, ge=1, description="Largest file the candidate may write in its temp dir (RLIMIT_FSIZE), MiB."
    )
    open_files: int = Field(256, ge=32, description="Open file descriptors of the child (RLIMIT_NOFILE).")
    threads: int = Field(
        128,
        ge=8,
        description="Threads the candidate process may run; the check runner stops it past that "
        "(it also bounds RLIMIT_NPROC above the system's count, for non-root users).",
    )
    quota_mib: int = Field(
        64,
        ge=0,
        description="Size of the candidate's folder, MiB: a private tmpfs mounted over it where the "
        "kernel allows mount namespaces (writes past it fail with ENOSPC); 0 turns the quota off.",
    )
    output_kib: int = Field(
        64, ge=1, description="How much of the candidate's stdout/stderr is kept, KiB; the rest is dropped."
    )
    landlock: bool = Field(
        True,
        description="Use Linux Landlock when the kernel has it: the child may write only in its "
        "temp dir, read only the Python installation and a few system files, open no TCP "
        "connection and signal no process outside itself.",
    )
    seccomp: bool = Field(
        True,
        description="Install a seccomp filter (Linux x86-64): no fork, exec, ptrace, mount, "
        "namespaces, non-UNIX sockets or permission changes, even as root.",
    )

    @property
    def cpu_limit_s(self) -> int:
        if self.cpu_s is not None:
            return self.cpu_s
        return math.ceil(self.load_timeout_s + self.run_timeout_s) + 2

    @property
    def wall_s(self) -> float:
        """The longest one validation can take before the worker kills it."""
        return self.load_timeout_s + self.run_timeout_s
