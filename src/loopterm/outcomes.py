"""How a turn went and why a lane stopped: the two enums every layer compares against.

At the bottom of the layers (no pydantic, no rich) so the display words, the
listings and the viewer key their maps by these, never by strings typed again.
``loopterm.events`` re-exports both.
"""

from __future__ import annotations

from enum import StrEnum


class TurnStatus(StrEnum):
    """How one turn went. ERROR is infrastructure, never the model's fault."""

    PASS = "PASS"
    PARTIAL = "PARTIAL"
    FAIL = "FAIL"
    THRASH = "THRASH"
    ERROR = "ERROR"


class Outcome(StrEnum):
    """Why a lane stopped."""

    PASS = "PASS"
    THRASH = "THRASH"
    TURN_LIMIT = "TURN_LIMIT"
    BUDGET = "BUDGET"
    ERROR = "ERROR"
    ABORTED = "ABORTED"
