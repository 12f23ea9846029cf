"""The judge: how one turn's validation becomes the turn's verdict, and how lanes are placed.

One home for these rules (DESIGN.md): the live loop (``loop/lane.py``),
rescore (``traces/rescore.py``), the reading of older traces
(``traces/upgrade.py``) and every loop strategy call this module and nothing
else decides a status, a score, fixed/broke, a best, a stop or a place. It is
pure: no I/O, no clock, no events emitted. Equal inputs give equal verdicts,
which is why a rescore against an unchanged suite judges a recorded race
exactly as the race did.

**The implementation in place.** A turn is judged by the code in place after
it: the last code that was validated. An answer that brings no code (none in
it, or refused for its size: ``bounds``) leaves that code in place, so its
turn's status is FAIL (THRASH when it is the K-th stale turn), but its score
and checks passed are those of the implementation still in place (0 before
any), it fixes and breaks nothing, and the verdict says ``no_code``. Fixed and
broke compare an implementation with the one it replaced; the first
implementation fixes and breaks nothing.

**THRASH**, precisely: a lane is thrashing when K consecutive turns (default
3, ``--thrash-k``) each fail to beat the best score the lane had before them.
A turn that repeats the same failing set, regresses, or answers with no code
is such a turn. Turn 1 always sets the first best. K = 0 turns the rule off.
The turn that completes the K-th stale turn is marked THRASH instead of
PARTIAL or FAIL, and the lane stops there.

**Stops**: PASS, THRASH, the turn limit after the last allowed turn, and
ERROR (the provider or the sandbox failed: never the model's fault, and the
turn carries the implementation in place).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from loopterm.events import LaneDone, Outcome, RaceStarted, TurnStatus, ValidationResult


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


@dataclass(frozen=True)
class Implementation:
    """The code in place, as its validation scored it."""

    turn: int  # the turn whose answer it was
    score: float
    passed: int
    total: int
    failing: frozenset[str]


@dataclass(frozen=True)
class Verdict:
    """One turn, judged: what its ``TurnDone`` says, and whether the lane stops after it."""

    turn: int
    status: TurnStatus
    score: float  # of the implementation in place after the turn
    passed: int
    total: int
    best: float
    fixed: list[str] = field(default_factory=list)
    broke: list[str] = field(default_factory=list)
    no_code: bool = False  # the answer brought no code: the score is the implementation still in place
    stop: Outcome | None = None  # None: the lane goes on
    reason: str = ""  # why the lane stops (the LaneDone's reason)

    def turn_fields(self) -> dict[str, Any]:
        """The fields of the turn's ``TurnDone`` that the judge decides (the caller adds time and lane)."""
        return {
            "turn": self.turn,
            "status": self.status,
            "score": self.score,
            "passed": self.passed,
            "total": self.total,
            "best_score": self.best,
            "fixed": list(self.fixed),
            "broke": list(self.broke),
            "no_code": self.no_code,
        }


class Judge:
    """The judge of one lane run: give it each turn's validation, in order, and it returns the verdict.

    ``checks``: how many checks the suite has (the total before any
    implementation); ``thrash_k`` and ``max_turns``: the race's rules.
    """

    def __init__(self, *, checks: int, thrash_k: int, max_turns: int) -> None:
        self.checks = checks
        self.thrash_k = thrash_k
        self.max_turns = max_turns
        self.thrash = ThrashTracker(thrash_k)
        self.best = 0.0
        self.in_place: Implementation | None = None

    @property
    def score(self) -> float:
        """The score of the implementation in place (0 before any): a lane's final score."""
        return self.in_place.score if self.in_place else 0.0

    @property
    def passed(self) -> int:
        return self.in_place.passed if self.in_place else 0

    @property
    def total(self) -> int:
        return self.in_place.total if self.in_place else self.checks

    @property
    def limit_reason(self) -> str:
        return f"turn limit of {self.max_turns} reached"

    def judge(self, turn: int, result: ValidationResult, *, code: bool) -> Verdict:
        """The verdict on turn ``turn``.

        ``code``: the answer brought code and ``result`` is its validation;
        False: nothing was validated and ``result`` says why (no code, too long).
        A result with an ``infrastructure_error`` is the sandbox's failure: an ERROR turn.
        """
        if result.infrastructure_error:
            return self.error(turn, result.infrastructure_error)
        fixed: list[str] = []
        broke: list[str] = []
        if code:
            failing = frozenset(c.id for c in result.checks if not c.passed)
            before = self.in_place
            if before is not None:
                fixed, broke = sorted(before.failing - failing), sorted(failing - before.failing)
            self.in_place = Implementation(turn, result.score, result.passed, result.total, failing)
        status = classify(result, self.thrash.update(self.score))
        self.best = max(self.best, self.score)
        stop, reason = self._stop(turn, status)
        return Verdict(
            turn,
            status,
            self.score,
            self.passed,
            self.total,
            self.best,
            fixed,
            broke,
            no_code=not code,
            stop=stop,
            reason=reason,
        )

    def error(self, turn: int, reason: str) -> Verdict:
        """Provider or sandbox trouble on turn ``turn``: an ERROR turn, and the lane stops with ``reason``.

        Nothing about the implementation changed, so the turn carries the one in place.
        """
        return Verdict(
            turn, TurnStatus.ERROR, self.score, self.passed, self.total, self.best, stop=Outcome.ERROR, reason=reason
        )

    def _stop(self, turn: int, status: TurnStatus) -> tuple[Outcome | None, str]:
        if status is TurnStatus.PASS:
            return Outcome.PASS, f"passed {self.passed}/{self.total} on turn {turn}"
        if status is TurnStatus.THRASH:
            return Outcome.THRASH, f"no new best score in {self.thrash_k} turns (best {self.best:.0%})"
        if turn >= self.max_turns:
            return Outcome.TURN_LIMIT, self.limit_reason
        return None, ""


def ranked(header: RaceStarted) -> bool:
    """Whether a race's lanes get places: a benchmark's runs are independent samples and get none."""
    return header.kind != "bench" and header.bench_id is None


class Places:
    """Places in finishing order: the first lane to PASS is 1st. Call it with every ``LaneDone``
    in time order; it sets each one's ``place``. One rule for the live race and rescore."""

    def __init__(self, ranked: bool) -> None:
        self.ranked = ranked
        self.given = 0

    @classmethod
    def of(cls, header: RaceStarted) -> Places:
        return cls(ranked(header))

    def __call__(self, event: LaneDone) -> None:
        event.place = None
        if self.ranked and event.outcome is Outcome.PASS:
            self.given += 1
            event.place = self.given
