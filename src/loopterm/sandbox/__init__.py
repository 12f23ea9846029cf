"""Everything that executes candidate code lives here, and only here.

``Sandbox`` keeps a warm worker process for one task and validates candidates
in forked, locked-down children (see ``zygote.py`` and ``child.py``);
``validate_source`` does one validation from synchronous code. ``runner.py``
is what runs inside the child.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from loopterm.sandbox.core import Sandbox, validate_source
    from loopterm.sandbox.limits import Limits
    from loopterm.sandbox.worker import SandboxError

__all__ = ["Limits", "Sandbox", "SandboxError", "validate_source"]

_WHERE = {
    "Sandbox": "loopterm.sandbox.core",
    "validate_source": "loopterm.sandbox.core",
    "Limits": "loopterm.sandbox.limits",
    "SandboxError": "loopterm.sandbox.worker",
}


def __getattr__(name: str) -> Any:
    # Lazy, so importing loopterm.sandbox.runner (in the child) pulls in nothing else.
    if name in _WHERE:
        import importlib

        return getattr(importlib.import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'loopterm.sandbox' has no attribute {name!r}")
