"""Run a suite's checks against a candidate: the one check loop, in-process or over the wire.

:func:`run_checks` is the loop every validation uses: checks run concurrently
(bounded) against one shared instance, each with its own timeout, each timed
here. The check runner process (``checkrunner.py``) calls it with a client
whose requests travel to a sandboxed candidate process; :func:`run_suite` calls
it with the candidate's app loaded in this process, which only tests of the
suite itself do, on trusted code (the reference and its faults), because that
is fast and deterministic.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from loopterm.events import CheckResult
from loopterm.sandbox.direct import CandidateClient, asgi_exchange
from loopterm.sandbox.loader import CandidateLoadError, explain_errors, load_app
from loopterm.suite import IN_FLIGHT, Check, CheckContext, Suite

BASE_URL = "http://candidate"
HANG = "the handler hangs (an infinite loop, or a blocking call or an await that never ends?)"
# What a check's message may hold, at most; the rest is cut with a note.
MESSAGE_CHARS = 2000

__all__ = ["BASE_URL", "CandidateLoadError", "client_for", "run_checks", "run_suite"]


def client_for(app: Any, filename: str = "candidate.py") -> httpx.AsyncClient:
    # An httpx.AsyncClient over ASGI whose plain requests skip httpx's own overhead (direct.py).
    return CandidateClient(asgi_exchange(explain_errors(app, filename)), BASE_URL)


def clip_message(text: str, limit: int = MESSAGE_CHARS) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]} [... {len(text) - limit} more characters cut]"


def hang_message(pending: list[str], check_timeout: float) -> str:
    if pending:
        return f"sent {pending[0]}; expected an answer within {check_timeout:g} s; got none: {HANG}"
    return f"no answer within {check_timeout:g} s: {HANG}"


async def run_checks(
    suite: Suite,
    ctx: CheckContext,
    *,
    concurrency: int,
    check_timeout: float,
    on_result: Callable[[CheckResult], None] | None = None,
    on_hang: Callable[[Check, list[str]], Awaitable[str]] | None = None,
    keep: Callable[[CheckResult], bool] | None = None,
) -> list[CheckResult]:
    """Every check of ``suite`` through ``ctx``; the results ``keep`` accepts (all by default).

    ``on_hang`` turns a check's timeout into its message (the check runner uses
    it to tell a handler that awaits forever from one that blocks the whole
    server); ``keep`` drops results that say nothing about the check (the
    candidate process died under it: the check is then reported as not run).
    """
    gate = asyncio.Semaphore(concurrency)

    async def one(check: Check) -> CheckResult | None:
        async with gate:
            start = time.perf_counter()
            passed, message = False, ""
            pending: list[str] = []  # the check's task (wait_for copies this context) fills it
            token = IN_FLIGHT.set(pending)
            try:
                await asyncio.wait_for(check.func(ctx), timeout=check_timeout)
                passed = True
            except AssertionError as exc:
                message = str(exc) or "assertion failed"
            except TimeoutError:
                message = await on_hang(check, pending) if on_hang else hang_message(pending, check_timeout)
            except MemoryError:
                message = "the candidate ran out of memory"
            except Exception as exc:  # a check must never take the run down with it
                message = f"check could not complete: {type(exc).__name__}: {str(exc)[:300]}"
            except (SystemExit, KeyboardInterrupt) as exc:  # in-process only: the candidate's doing
                message = f"the candidate raised {type(exc).__name__}({str(exc)[:300]}) while handling a request"
            finally:
                IN_FLIGHT.reset(token)
            result = CheckResult(
                id=check.id,
                group=check.group,
                description=check.description,
                passed=passed,
                message=clip_message(message),
                duration_ms=(time.perf_counter() - start) * 1000,
            )
            if keep is not None and not keep(result):
                return None
            if on_result is not None:
                on_result(result)
            return result

    done = await asyncio.gather(*(one(c) for c in suite.checks))
    return [r for r in done if r is not None]


async def run_suite(
    suite: Suite,
    source: str,
    *,
    concurrency: int = 16,
    check_timeout: float = 5.0,
    on_result: Callable[[CheckResult], None] | None = None,
    filename: str = "candidate.py",
    on_loaded: Callable[[], None] | None = None,
) -> list[CheckResult]:
    """Every check of ``suite`` against ``source`` loaded in THIS process; raises CandidateLoadError.

    For trusted code only (the reference, its faults, tests): nothing here is
    isolated. Candidates from models go through :class:`loopterm.sandbox.Sandbox`.
    """
    app = load_app(source, filename)
    if on_loaded is not None:
        on_loaded()
    clients: list[httpx.AsyncClient] = [client_for(app, filename)]

    async def fresh() -> httpx.AsyncClient:
        try:
            new = client_for(load_app(source, filename), filename)
        except CandidateLoadError as exc:  # it loaded once, so this is flaky import code
            raise AssertionError(f"a second instance failed to load: {exc}") from None
        clients.append(new)
        return new

    try:
        return await run_checks(
            suite,
            CheckContext(clients[0], fresh),
            concurrency=concurrency,
            check_timeout=check_timeout,
            on_result=on_result,
        )
    finally:
        for client in clients:
            await client.aclose()
