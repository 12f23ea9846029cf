"""The processes a test watches: a process's children, and the candidate running in a sandbox."""

from __future__ import annotations

import contextlib
from collections.abc import Collection
from pathlib import Path

from loopterm.sandbox import Sandbox
from support.waiting import wait_for


def children(pid: int) -> list[int]:
    """The pids of ``pid``'s children; none once it is gone."""
    with contextlib.suppress(FileNotFoundError, ProcessLookupError):
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return []


async def until_a_candidate_runs(box: Sandbox, *, not_on: Collection[int] = ()) -> int:
    """The pid of ``box``'s check runner once a candidate runs under it (a child of its warm process).

    ``not_on``: runners to pass over (killed ones, whose pid may linger a moment).
    """

    def runner() -> int | None:
        pid = box.worker_pid
        if pid is not None and pid not in not_on and any(children(warm) for warm in children(pid)):
            return pid
        return None

    return await wait_for(runner, what="a candidate process under the sandbox's check runner")
