"""The lanes file: TOML ``[[lanes]]`` tables, read with errors that name the file, line and field."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from loopterm.keys import secret_message, secret_param
from loopterm.lanes.model import Lane, LaneError
from loopterm.lanes.sims import PROFILES, profiles_hint

_HEADER = re.compile(r"\s*\[\[\s*lanes\s*\]\]")
_TABLE = re.compile(r"\s*\[\s*([^\[\]]+?)\s*\]\s*(#.*)?$")
_PART = r"(?:\"[^\"]*\"|'[^']*'|[A-Za-z0-9_\-]+)"  # one bare or quoted key
_ASSIGN = re.compile(rf"\s*({_PART}(?:\s*\.\s*{_PART})*)\s*=")
_KEY_PART = re.compile(r"\"([^\"]*)\"|'([^']*)'|([A-Za-z0-9_\-]+)")


def _dotted(key: str) -> tuple[str, ...]:
    return tuple(a or b or c for a, b, c in _KEY_PART.findall(key))


def _lane_header_lines(text: str) -> list[int]:
    return [i + 1 for i, line in enumerate(text.splitlines()) if _HEADER.match(line)]


def _field_line(text: str, header_line: int, loc: tuple[str, ...]) -> int | None:
    """The line that sets the field at ``loc`` in the lane table starting at ``header_line``.

    Knows the three ways TOML can set ``price.input``: ``price = { input = ... }``
    (that line), ``price.input = ...`` and a ``[lanes.price]`` table with
    ``input = ...`` under it. The longest match wins.
    """
    lines = text.splitlines()
    prefix: tuple[str, ...] = ()
    best: tuple[int, int] | None = None  # (matched length, line)
    for number in range(header_line, len(lines)):
        line = lines[number]
        if _HEADER.match(line):
            break
        table = _TABLE.match(line)
        if table:
            path = _dotted(table.group(1))
            if path[:1] != ("lanes",):
                break  # another top-level table: the lane ended
            prefix = path[1:]
            path = prefix
        else:
            assign = _ASSIGN.match(line)
            if not assign:
                continue
            path = prefix + _dotted(assign.group(1))
        size = len(path)
        if size and path == loc[:size] and (best is None or size > best[0]):
            best = (size, number + 1)
    return best[1] if best else None


def _line_of(text: str, pattern: str) -> int | None:
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(pattern, line):
            return number
    return None


def _message(err: Any) -> str:
    msg = str(err["msg"])
    return msg.removeprefix("Value error, ")


def load_lanes_file(path: Path) -> dict[str, Lane]:
    """Read a lanes TOML file; errors name the file, line and field."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LaneError(f"{path}: no such lanes file; check the path") from None
    except OSError as exc:
        raise LaneError(f"{path}: cannot read lanes file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        bad = exc.object[exc.start : exc.start + 1]
        raise LaneError(f"{path}: not UTF-8 text (byte {exc.start} is {bad!r}); save the file as UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise LaneError(f"{path}: not valid TOML: {exc}") from None
    for key in data:
        if key != "lanes":
            # A typo such as [[lane]] would otherwise leave the file silently empty.
            name = re.escape(key)
            line = _line_of(text, rf"\s*(\[\[?\s*{name}\s*[\].]|\"?{name}\"?\s*[=.])")
            where = f"{path}:{line}" if line else str(path)
            raise LaneError(f"{where}: unknown table or key '{key}': a lanes file holds only [[lanes]] tables")
    raw = data.get("lanes", [])
    if not isinstance(raw, list):
        raise LaneError(f"{path}: 'lanes' must be an array of tables, written [[lanes]]")
    lines = _lane_header_lines(text)
    lanes: dict[str, Lane] = {}
    for index, item in enumerate(raw):
        line = lines[index] if index < len(lines) else 0
        where = f"{path}:{line}" if line else str(path)
        if not isinstance(item, dict):
            raise LaneError(f"{where}: lane {index + 1} must be a table")
        label = item.get("name", f"#{index + 1}")
        secret = secret_param(item.get("params"))
        if secret:
            key_line = _field_line(text, line, ("params", *secret)) if line else None
            where = f"{path}:{key_line}" if key_line else where
            raise LaneError(f"{where}: lane {label!r}: {secret_message(secret)}")
        try:
            lane = Lane.model_validate(item)
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = tuple(str(p) for p in err["loc"])
            field = ".".join(loc) or "lane"
            key_line = _field_line(text, line, loc) if loc and line else None
            if key_line:
                where = f"{path}:{key_line}"
            raise LaneError(f"{where}: lane {label!r}: field '{field}': {_message(err)}") from None
        if lane.simulated and lane.model not in PROFILES:
            key_line = _field_line(text, line, ("model",)) if line else None
            where = f"{path}:{key_line}" if key_line else where
            raise LaneError(
                f"{where}: lane {label!r}: field 'model': unknown simulated profile "
                f"{lane.model!r}; choose one of {profiles_hint('')}"
            )
        if lane.name in lanes:
            raise LaneError(f"{where}: lane name {lane.name!r} is used twice; names must be unique")
        lanes[lane.name] = lane
    return lanes


def load_user_lanes(path: Path | None = None) -> dict[str, Lane]:
    """The lanes of ``path`` (``--lanes FILE``), else of the user's lanes file if it exists."""
    if path is not None:
        return load_lanes_file(path)
    from loopterm.paths import lanes_file

    default = lanes_file()
    return load_lanes_file(default) if default.is_file() else {}
