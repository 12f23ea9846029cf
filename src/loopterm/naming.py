"""Moved: lane names and counts are display words, in :mod:`loopterm.words`.

Kept importable (``from loopterm.naming import plural``) for code written
before the move; new code imports from :mod:`loopterm.words`.
"""

from __future__ import annotations

from loopterm.words import SIM_MARK, display_name, plural

__all__ = ["SIM_MARK", "display_name", "plural"]
