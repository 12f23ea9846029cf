"""Load a candidate's file as a module and wrap its ASGI app: shared by the child and in-process tests.

Plain standard library only: the candidate process imports this after it has
locked itself down, and the warm process it is forked from holds libraries only.
"""

from __future__ import annotations

import inspect
import itertools
import sys
import types
from typing import Any

_instances = itertools.count()


class CandidateLoadError(Exception):
    """The candidate did not give us an ASGI app; the message says why, in one line."""


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else ""


def load_app(source: str, filename: str = "candidate.py") -> Any:
    """Execute the candidate as a fresh module and return its ``app``."""
    name = f"candidate_{next(_instances)}"
    module = types.ModuleType(name)
    module.__file__ = filename
    # Registered so pydantic can resolve the candidate's postponed annotations.
    sys.modules[name] = module
    try:
        code = compile(source, filename, "exec")
    except SyntaxError as exc:
        # A NUL byte gives a SyntaxError with no line number.
        where = f" at line {exc.lineno}" if exc.lineno else ""
        raise CandidateLoadError(f"syntax error{where}: {exc.msg}") from None
    except ValueError as exc:  # e.g. source with NUL bytes
        raise CandidateLoadError(f"cannot compile the file: {_short(exc)}") from None
    try:
        exec(code, module.__dict__)
    except ModuleNotFoundError as exc:
        raise CandidateLoadError(
            f"imports a module that is not available: '{exc.name}' (use only the standard "
            "library, fastapi, starlette and pydantic)"
        ) from None
    except SystemExit as exc:
        raise CandidateLoadError(f"called sys.exit({exc.code!r}) while being imported") from None
    except MemoryError:
        raise CandidateLoadError("ran out of memory while being imported") from None
    except RecursionError:
        raise CandidateLoadError("hit the recursion limit while being imported") from None
    except BaseException as exc:  # the candidate's own failure, whatever it is
        line = _import_error_line(exc, filename)
        raise CandidateLoadError(f"raised {type(exc).__name__} while being imported{line}: {_short(exc)}") from None
    if "app" not in module.__dict__:
        raise CandidateLoadError("defines no module-level `app`; define `app = FastAPI()` at the top level")
    app = module.__dict__["app"]
    # FastAPI/Starlette apps are instances with an async __call__; bare ASGI
    # callables are async functions.
    call = app if inspect.isfunction(app) else getattr(type(app), "__call__", None)  # noqa: B004
    if not callable(app) or not (inspect.iscoroutinefunction(app) or inspect.iscoroutinefunction(call)):
        raise CandidateLoadError(f"`app` is a {type(app).__name__}, not an ASGI application; set `app = FastAPI()`")
    return app


def candidate_line(frame: Any, filename: str = "candidate.py") -> str:
    """``line 12 (in hello)``: the innermost frame of the candidate's file, or ""."""
    while frame is not None:
        if frame.f_code.co_filename == filename:
            name = frame.f_code.co_name
            return f"line {frame.f_lineno}" + ("" if name == "<module>" else f" (in {name})")
        frame = frame.f_back
    return ""


def _import_error_line(exc: BaseException, filename: str) -> str:
    tb = exc.__traceback__
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return f" at line {line}" if line else ""


def explain_errors(app: Any, filename: str) -> Any:
    """Wrap an ASGI app so an unhandled exception becomes a 500 that says what it was.

    A bare "Internal Server Error" teaches a model nothing; "KeyError: 'lines'
    at line 42" is feedback it can act on. The response is held until the
    handler finishes so the framework's own 500 can be replaced.
    """

    async def wrapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope.get("type") != "http":
            await app(scope, receive, send)
            return
        held: list[dict[str, Any]] = []

        async def hold(message: dict[str, Any]) -> None:
            held.append(message)

        try:
            await app(scope, receive, hold)
        except Exception as exc:  # the candidate's bug, reported to the check as a 500
            where = _import_error_line(exc, filename)
            what = "the candidate ran out of memory" if isinstance(exc, MemoryError) else _short(exc)
            body = f"Internal Server Error: {type(exc).__name__}{where}: {what}".encode()
            headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 500, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        for message in held:
            await send(message)

    return wrapped
