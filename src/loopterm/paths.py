"""Where loopterm keeps things.

Traces live in the user cache dir and configuration in the user config dir, both
from platformdirs under the app name ``loopterm``. Each has an environment
variable that overrides it (tests point both at a temp dir so they never touch
the developer's own files).
"""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_cache_dir, user_config_dir

APP_NAME = "loopterm"
CACHE_ENV = "LOOPTERM_CACHE_DIR"
CONFIG_ENV = "LOOPTERM_CONFIG_DIR"


def cache_dir() -> Path:
    """The root of loopterm's cache (``LOOPTERM_CACHE_DIR`` overrides)."""
    override = os.environ.get(CACHE_ENV)
    return Path(override) if override else Path(user_cache_dir(APP_NAME))


def traces_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Where race folders are written; ``--trace-dir`` wins over everything."""
    if override is not None:
        return Path(override)
    return cache_dir() / "traces"


def config_dir() -> Path:
    """The user's config dir (``LOOPTERM_CONFIG_DIR`` overrides)."""
    override = os.environ.get(CONFIG_ENV)
    return Path(override) if override else Path(user_config_dir(APP_NAME))


def lanes_file() -> Path:
    """The user's own lanes file, read by ``loopterm lanes`` and ``race``."""
    return config_dir() / "lanes.toml"


def user_themes_dir() -> Path:
    """Extra Textual themes the user dropped in their config dir."""
    return config_dir() / "themes"


def data_dir() -> Path:
    """The folder holding ``spec/``, ``validation/`` and ``themes/``.

    In a checkout (or an editable install) that is the repository root; in a
    wheel it is ``loopterm/_data``, where the build copies those folders.
    """
    here = Path(__file__).resolve().parent
    packaged = here / "_data"
    if packaged.is_dir():
        return packaged
    return here.parent.parent
