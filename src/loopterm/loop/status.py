"""Turn statuses and the stagnation (THRASH) rule.

THRASH, precisely: a lane is thrashing when K consecutive turns (default 3,
``--thrash-k``) each fail to beat the best score the lane had before them. A
turn that repeats the same failing set, regresses, or answers with no code is
such a turn. Turn 1 always sets the first best. K = 0 turns the rule off. The
turn that completes the K-th stale turn is marked THRASH instead of PARTIAL or
FAIL, and the lane stops there.
"""

from __future__ import annotations

from dataclasses import dataclass

from loopterm.events import LaneDone, Outcome, TurnStatus, ValidationResult


@dataclass
class ThrashTracker:
    k: int
    best: float | None = None
    stale: int = 0

    def update(self, score: float) -> bool:
        """Record one turn's score; True when this turn makes the lane THRASH."""
        if self.best is None or score > self.best:
            self.best = score
            self.stale = 0
            return False
        self.stale += 1
        return self.k > 0 and self.stale >= self.k


def classify(result: ValidationResult, thrashing: bool) -> TurnStatus:
    if result.status == "PASS":
        return TurnStatus.PASS
    if thrashing:
        return TurnStatus.THRASH
    return TurnStatus.PARTIAL if result.status == "PARTIAL" else TurnStatus.FAIL


class Places:
    """Places in finishing order: the first lane to PASS is 1st. Only a race's lanes are ranked;
    a bench's runs are independent samples and get none. One rule for the live race and rescore."""

    def __init__(self, ranked: bool) -> None:
        self.ranked = ranked
        self.given = 0

    def __call__(self, event: LaneDone) -> None:
        event.place = None
        if self.ranked and event.outcome is Outcome.PASS:
            self.given += 1
            event.place = self.given
