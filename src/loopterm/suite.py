"""How a task's checks are written: plain async functions registered in a Suite.

A task's ``validation/<id>/checks.py`` makes ``SUITE = Suite("<id>")`` and
registers each check with ``@SUITE.check(id, group, description)``. A check
gets a :class:`CheckContext` and talks HTTP to the candidate through
``ctx.client`` (an ``httpx.AsyncClient`` wired to the candidate's ASGI app, no
port). It fails by raising :class:`CheckFailed` (or ``AssertionError``) with a
message that says what was sent, what was expected and what came back; a
request sent inside ``with awaiting("<request>"):`` is named in the message
when the check times out waiting for it.

Checks run concurrently against one shared instance of the candidate, so each
must create the data it needs and must not assume an empty store. A check that
needs a store nobody else touches asks ``await ctx.fresh_client()`` for a client
on a newly loaded instance.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    import httpx

Group = Literal["logic", "shape", "robustness"]
GROUPS: tuple[Group, ...] = ("logic", "shape", "robustness")


class CheckFailed(AssertionError):
    """Raised by a check: the message goes to the model as feedback."""


# The requests a check is waiting on, oldest first; the runner gives each check its own list.
IN_FLIGHT: ContextVar[list[str] | None] = ContextVar("loopterm_in_flight", default=None)


@contextmanager
def awaiting(request: str) -> Iterator[None]:
    """Around one request of a check: if the check times out, its message names ``request``.

    A hang teaches a model little until it knows which request never came back.
    """
    pending = IN_FLIGHT.get()
    if pending is None:  # not run by the runner (a test calling a check directly)
        yield
        return
    pending.append(request)
    try:
        yield
    except asyncio.CancelledError:  # the check timed out waiting: the runner reads the entry
        raise
    except BaseException:
        pending.remove(request)
        raise
    pending.remove(request)


class CheckContext:
    """What a check gets: a client on the shared instance, and fresh ones on demand."""

    def __init__(
        self,
        client: httpx.AsyncClient,
        fresh: Callable[[], Awaitable[httpx.AsyncClient]],
    ) -> None:
        self.client = client
        self._fresh = fresh

    async def fresh_client(self) -> httpx.AsyncClient:
        """A client on a newly loaded instance of the candidate (empty store)."""
        return await self._fresh()


CheckFunc = Callable[[CheckContext], Awaitable[None]]


@dataclass(frozen=True)
class Check:
    id: str
    group: Group
    description: str
    func: CheckFunc


@dataclass
class Suite:
    """The checks of one task, in registration order."""

    task_id: str
    checks: list[Check] = field(default_factory=list)

    def check(self, id: str, group: Group, description: str) -> Callable[[CheckFunc], CheckFunc]:
        if group not in GROUPS:
            raise ValueError(f"check {id}: group must be one of {GROUPS}, not {group!r}")

        def register(func: CheckFunc) -> CheckFunc:
            if any(c.id == id for c in self.checks):
                raise ValueError(f"check id {id!r} is registered twice")
            self.checks.append(Check(id, group, description, func))
            return func

        return register

    def by_id(self) -> dict[str, Check]:
        return {c.id: c for c in self.checks}
