"""One warm Sandbox for a whole test session, usable from every test's own event loop.

Starting a sandbox costs about 1.5 s of CPU (two interpreters that import the
task's suite and the candidates' libraries); validating with a warm one costs
a tenth of that. Most tests that race or rescore only need verdicts, and every
validation runs in a fresh candidate process whichever sandbox serves it, so
they share this one (conftest's ``sandbox`` fixture).

The sandbox lives on an event loop of its own in a background thread: each
test keeps its own loop (and what a test leaves on it goes with it), and a
validation awaited on a test's loop runs there. Tests that kill or break a
sandbox, start one on purpose, or need other limits or another task start
their own.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from loopterm.events import ValidationResult
from loopterm.sandbox import Limits, Sandbox
from loopterm.tasks import Task

T = TypeVar("T")


class SharedSandbox:
    """A real :class:`Sandbox` on its own loop; ``validate`` may be awaited from any loop, concurrently."""

    def __init__(self, task: Task) -> None:
        self.task = task
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="shared-sandbox", daemon=True)
        self._thread.start()
        self.box = Sandbox(task)
        try:
            self._wait(self.box.__aenter__())
        except BaseException:
            self._stop()
            raise

    def _wait(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    async def validate(self, source: str, *, limits: Limits | None = None) -> ValidationResult:
        # Cancelling the caller cancels the validation on the sandbox's loop, as with a Sandbox.
        return await asyncio.wrap_future(
            asyncio.run_coroutine_threadsafe(self.box.validate(source, limits=limits), self._loop)
        )

    def close(self) -> None:
        try:
            self._wait(self.box.close())
        finally:
            self._stop()

    def _stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        if not self._thread.is_alive():
            self._loop.close()
