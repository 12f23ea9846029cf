"""Themes as data: TOML (or JSON) files loaded into Textual ``Theme`` objects.

The built-in themes live in ``<data dir>/themes``; the user's own files in
``paths.user_themes_dir()`` are loaded after them (so a user file may replace a
built-in theme by using its name). A file that cannot be used is reported as
one line naming the file and the problem; it never stops the app.

A theme file holds Textual's theme fields (``name``, ``primary``,
``background``, ``dark``...) and a ``[variables]`` table. Variables named
``lt-*`` are loopterm's own colours (see ``APP_VARIABLES``); any that a theme
leaves out are derived from its base colours, so a theme only needs ``name``
and ``primary``.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable
from dataclasses import fields
from pathlib import Path
from typing import Any

from textual.color import Color, ColorParseError
from textual.theme import Theme

from loopterm.paths import data_dir, user_themes_dir

DEFAULT_THEME = "loopterm-dark"
ANSI_THEME = "loopterm-ansi"  # for terminals with only the 16 ANSI colours

_COLOR_FIELDS = (
    "primary",
    "secondary",
    "warning",
    "error",
    "success",
    "accent",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)
_FLOAT_FIELDS = ("luminosity_spread", "text_alpha")
_BOOL_FIELDS = ("dark", "ansi")
_KNOWN_FIELDS = {f.name for f in fields(Theme)}

# loopterm's own colours and the Textual colour each defaults to.
APP_VARIABLES: dict[str, str] = {
    "lt-pass": "success",
    "lt-fail": "error",
    "lt-thrash": "warning",
    "lt-fixed": "success",
    "lt-broke": "error",
    "lt-sim": "accent",
    "lt-sim-text": "background",
    "lt-class": "primary",
    "lt-class-text": "background",
    "lt-timer": "foreground",
    "lt-muted": "foreground-darken-2",
    "lt-bar": "primary",
    "lt-bar-empty": "panel-lighten-2",
    "lt-place": "warning",
    "lt-pane-border": "panel-lighten-2",
    "lt-pane-focus": "accent",
    "lt-lane-1": "primary",
    "lt-lane-2": "warning",
    "lt-lane-3": "success",
    "lt-lane-4": "accent",
    "lt-lane-5": "error",
    "lt-lane-6": "secondary",
    "lt-lane-7": "primary-lighten-3",
    "lt-lane-8": "foreground",
}
LANE_COLOURS = 8


class ThemeFileError(ValueError):
    """A theme file that cannot be used; the message names the file."""


def builtin_themes_dir() -> Path:
    return data_dir() / "themes"


def theme_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.suffix in (".toml", ".json") and p.is_file())


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ThemeFileError(f"{path}: cannot read it ({exc})") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ThemeFileError(f"{path}: not valid {path.suffix[1:].upper()} ({exc})") from None
    if not isinstance(data, dict):
        raise ThemeFileError(f"{path}: expected a table of theme fields at the top level")
    return data


def _colour(path: Path, key: str, value: object) -> str:
    if not isinstance(value, str):
        raise ThemeFileError(f'{path}: {key} must be a colour string like "#1E90FF", not {value!r}')
    try:
        Color.parse(value)
    except ColorParseError:
        raise ThemeFileError(f'{path}: {key} = {value!r} is not a colour; use e.g. "#1E90FF"') from None
    return value


def parse_theme(data: dict[str, Any], path: Path) -> Theme:
    """A Theme from a file's parsed content; ThemeFileError says what to fix."""
    unknown = sorted(set(data) - _KNOWN_FIELDS)
    if unknown:
        raise ThemeFileError(
            f"{path}: unknown field {unknown[0]!r}; theme fields are "
            f"{', '.join(sorted(_KNOWN_FIELDS - {'variables'}))} and a [variables] table"
        )
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ThemeFileError(f'{path}: needs name = "..." (the name --theme selects)')
    if "primary" not in data:
        raise ThemeFileError(f'{path}: needs a primary colour, e.g. primary = "#1E90FF"')
    kwargs: dict[str, Any] = {"name": name.strip()}
    for key in _COLOR_FIELDS:
        if key in data:
            kwargs[key] = _colour(path, key, data[key])
    for key in _BOOL_FIELDS:
        if key in data:
            if not isinstance(data[key], bool):
                raise ThemeFileError(f"{path}: {key} must be true or false, not {data[key]!r}")
            kwargs[key] = data[key]
    for key in _FLOAT_FIELDS:
        if key in data:
            value = data[key]
            if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
                raise ThemeFileError(f"{path}: {key} must be a number from 0 to 1, not {value!r}")
            kwargs[key] = float(value)
    variables = data.get("variables", {})
    if not isinstance(variables, dict):
        raise ThemeFileError(f'{path}: variables must be a table of name = "value"')
    checked: dict[str, str] = {}
    for key, value in variables.items():
        if key.startswith("lt-"):
            checked[key] = _colour(path, f"variables.{key}", value)
        elif isinstance(value, str):
            checked[key] = value  # a Textual variable; passed through as written
        else:
            raise ThemeFileError(f"{path}: variables.{key} must be a string, not {value!r}")
    kwargs["variables"] = checked
    return Theme(**kwargs)


def load_theme_file(path: Path) -> Theme:
    return parse_theme(_read(path), path)


def load_themes(folders: Iterable[Path]) -> tuple[list[Theme], list[str]]:
    """Every usable theme in ``folders`` (later folders win) and one error line per bad file."""
    themes: dict[str, Theme] = {}
    errors: list[str] = []
    for folder in folders:
        for path in theme_files(folder):
            try:
                theme = load_theme_file(path)
            except ThemeFileError as exc:
                errors.append(str(exc))
                continue
            themes[theme.name] = theme
    return list(themes.values()), errors


def all_theme_folders() -> list[Path]:
    return [builtin_themes_dir(), user_themes_dir()]


def fill_app_variables(variables: dict[str, str]) -> dict[str, str]:
    """Add any ``lt-*`` colour a theme left out, derived from its base colours."""
    filled = dict(variables)
    for key, source in APP_VARIABLES.items():
        if key not in filled:
            filled[key] = variables.get(source) or variables.get("foreground") or "white"
    return filled
