"""What a secret looks like: one list of key shapes and secret-bearing names, for detection and scrubbing.

Used where a lanes file is loaded (a key pasted where a variable name belongs,
a param named like a secret) and wherever text from a server is kept (error
messages that echo part of a rejected key). One list, so a shape known to one
is known to the other.
"""

from __future__ import annotations

import re
from typing import Any

# Param names that carry a secret. A lanes file is a plain file that ends up
# in traces (params are recorded): keys belong in the environment, named by
# api_key_env. Matched case-insensitively, "-" as "_", at any depth (so
# ``extra_headers = {Authorization = ...}`` is caught too).
_SECRET_NAMES = frozenset(
    {
        "api_key",
        "apikey",
        "key",
        "token",
        "access_token",
        "auth_token",
        "bearer",
        "secret",
        "client_secret",
        "password",
        "passwd",
        "authorization",
        "auth",
        "x_api_key",
        "x_goog_api_key",
        "credentials",
        "cookie",
    }
)
_SECRET_SUFFIXES = ("_api_key", "_apikey", "_token", "_secret", "_password")


def secret_like(name: str) -> bool:
    """True for a param or query name that would hold a secret (``api_key``, ``Authorization``...)."""
    norm = name.strip().lower().replace("-", "_")
    return norm in _SECRET_NAMES or norm.endswith(_SECRET_SUFFIXES)


def secret_param(params: Any, path: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """The path of the first key-like name in ``params`` (nested tables included), else None."""
    if isinstance(params, dict):
        for name, value in params.items():
            if secret_like(str(name)):
                return (*path, str(name))
            found = secret_param(value, (*path, str(name)))
            if found:
                return found
    elif isinstance(params, list):
        for item in params:
            found = secret_param(item, path)
            if found:
                return found
    return None


def secret_message(path: tuple[str, ...]) -> str:
    return (
        f"param '{'.'.join(path)}' would put a secret in the lanes file (and every trace): "
        "put the key in an environment variable and name it with api_key_env"
    )


def without_secrets(params: Any) -> Any:
    """``params`` with every secret-named entry dropped, at any depth (what a trace may store)."""
    if isinstance(params, dict):
        return {k: without_secrets(v) for k, v in params.items() if not secret_like(str(k))}
    if isinstance(params, list):
        return [without_secrets(v) for v in params]
    return params


KEY_PREFIXES = ("sk-", "sk_", "AIza", "gsk_", "xai-", "hf_")


def key_shaped(value: str) -> bool:
    """True for a string that looks like an API key rather than a variable name:
    a known key prefix, or 20+ characters mixing lower case, upper case and digits
    (variable names are words: OPENAI_API_KEY, my_proxy_key)."""
    if value.startswith(KEY_PREFIXES):
        return True
    mixed = any(c.islower() for c in value) and any(c.isupper() for c in value) and any(c.isdigit() for c in value)
    return len(value) >= 20 and mixed


# Anything shaped like a key in free text: a known prefix and its tail, or a bearer token.
_KEYLIKE = re.compile(
    r"(?<![A-Za-z0-9])(?:" + "|".join(re.escape(p) for p in KEY_PREFIXES) + r")[A-Za-z0-9_\-*.]{4,}"
    r"|\bBearer\s+\S+"
)


def mask_keys(text: str) -> str:
    """``text`` with every key-shaped word replaced by ``***``."""
    return _KEYLIKE.sub("***", text)
