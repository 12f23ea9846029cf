"""The convergence fit: how fast a lane's loop closes the gap to a full score.

The talk's napkin math says each turn fixes a fraction ``r`` of what is still
broken. Taking a run's first score ``s1`` as the start, its score after ``n``
turns is modelled as::

    s_n = 1 - (1 - s1) * (1 - r) ** (n - 1)        (n = 1, 2, ...)

**Where a run starts.** The model is about an implementation being fixed, so
a run's fit starts at its first turn whose answer had code: a turn-1 answer
with no code scores 0 without being a first try at the task, and taking that
0 as ``s1`` makes the next turn look like a huge fix (the rate comes out far
too high). Turns before the first code are left out of the curve and added
back to the predicted pass turn (they were spent). A later answer with no
code leaves the implementation as it was (the loop keeps sending it back), so
for the fit that turn carries the previous code turn's score. A run that
never answered with code gives the fit nothing and is left out of it.

**Missing turns.** Runs stop early: a PASS stops the loop, so do THRASH, a
budget or the turn limit. Every run's last score is carried forward to the
lane's horizon (its longest run). For a passed run that is 1.0, which is what
more turns would show (the loop keeps passing code); leaving passed runs out
would make later turns look worse than they are (only strugglers remain). For
a run stopped by THRASH or a budget it is the stalled score: the stall is the
lane's behaviour, and leaving it out would flatter the lane. ERROR and
ABORTED runs are not given to the fit at all (the caller filters them).

**Estimating r.** Least squares over every run's turns 2..horizon (turn 1 is
the start, matched exactly by construction), each run with its own ``s1``.
With ``q = 1 - r`` and deficits ``a = 1 - s1`` and ``d_n = 1 - s_n`` the
objective is ``sum (a q^(n-1) - d_n)^2`` for ``q`` in [0, 1]. There is no
closed form, and the usual trick (regress ``log(1 - s_n)`` on ``n``) breaks on
exactly the points that matter: a score of 1.0 has no logarithm, and clipping
it picks ``r`` for you. Instead a grid of 401 values of ``q`` finds the
neighbourhood of the global minimum (the objective is a sum of polynomials
and need not be unimodal over the whole interval) and golden-section search
refines it inside one grid step either side, to about 1e-10. The ends of the
interval are allowed: a lane that never improves gets ``r = 0``, one whose
every second turn passes gets ``r = 1``. ``r`` is undefined (None) when no run
has room to improve after turn 1 (every run passed on turn 1, or no run has a
second turn): no data says anything about the rate.

**Prediction.** A run passes only at the end of a whole turn, so the model's
pass turn for a run is its turns before its first code plus the first whole
``n`` at which the fitted curve from its ``s1`` reaches the target score. The
target is "every check passes": scores move in steps of ``1/total``, so the
continuous curve stands for a full score once its deficit is below half a
check, ``1 - 0.5/total`` (0.999 when the number of checks is unknown). A pass
turn beyond the run's turn limit is no pass: the loop would have stopped
first, so the fit predicts that run fails. The predicted time to pass is the
mean pass turn of the runs the fit predicts to pass, times the lane's mean
turn time: the same quantity the measured mean time to pass averages (over
the runs that did pass). With no run predicted to pass there is no
prediction, and :class:`Prediction` says why ("> limit": the fitted curve
gets there only after the turn limit; "r = 0": it never gets there; "no
rate": r is unknown).
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from dataclasses import dataclass

GRID_STEPS = 400
FALLBACK_TARGET = 0.999
_GOLDEN = (math.sqrt(5) - 1) / 2


@dataclass(frozen=True)
class Fit:
    """A lane's fit: the rate, and the mean curves it was judged on."""

    r: float | None  # None: no run had room to improve after turn 1
    points: int  # residuals the fit used (turns 2..horizon of runs that started below 1.0)
    rmse: float | None  # root mean square residual at r
    observed: list[float]  # mean score after turn n (n = 1..horizon), last scores carried forward
    fitted: list[float] | None  # 1 - (1 - mean s1)(1 - r)^(n-1), n = 1..horizon

    @property
    def horizon(self) -> int:
        return len(self.observed)


def carry_forward(scores: Sequence[float], horizon: int) -> list[float]:
    """The run's scores padded to ``horizon`` turns with its last score."""
    if not scores:
        return []
    padded = list(scores[:horizon])
    padded.extend([scores[-1]] * (horizon - len(padded)))
    return padded


def model_curve(s1: float, r: float, turns: int) -> list[float]:
    """The modelled score after each of ``turns`` turns, starting from ``s1``."""
    q = 1.0 - r
    return [1.0 - (1.0 - s1) * q ** (n - 1) for n in range(1, turns + 1)]


def _objective(q: float, terms: Sequence[tuple[float, int, float]]) -> float:
    return sum((a * q**k - d) ** 2 for a, k, d in terms)


def _minimise(terms: Sequence[tuple[float, int, float]]) -> float:
    """The q in [0, 1] minimising the objective: grid, then golden section."""
    grid = [i / GRID_STEPS for i in range(GRID_STEPS + 1)]
    values = [_objective(q, terms) for q in grid]
    best = min(range(len(grid)), key=values.__getitem__)
    lo, hi = grid[max(0, best - 1)], grid[min(GRID_STEPS, best + 1)]
    x1, x2 = hi - _GOLDEN * (hi - lo), lo + _GOLDEN * (hi - lo)
    f1, f2 = _objective(x1, terms), _objective(x2, terms)
    while hi - lo > 1e-10:
        if f1 <= f2:
            hi, x2, f2 = x2, x1, f1
            x1 = hi - _GOLDEN * (hi - lo)
            f1 = _objective(x1, terms)
        else:
            lo, x1, f1 = x1, x2, f2
            x2 = lo + _GOLDEN * (hi - lo)
            f2 = _objective(x2, terms)
    # The minimum may sit on the bracket's end (r = 0 or r = 1 exactly).
    candidates = [(lo + hi) / 2, grid[max(0, best - 1)], grid[best], grid[min(GRID_STEPS, best + 1)]]
    return min(candidates, key=lambda q: _objective(q, terms))


def fit_rate(runs: Sequence[Sequence[float]]) -> tuple[float | None, int, float | None]:
    """Least-squares ``r`` over runs already carried forward to one horizon.

    Returns ``(r, points, rmse)``; ``r`` is None when no run started below 1.0
    and had a second turn.
    """
    terms: list[tuple[float, int, float]] = []
    for scores in runs:
        if len(scores) < 2 or scores[0] >= 1.0:
            continue  # a run starting at 1.0 fits every r equally: it says nothing
        a = 1.0 - scores[0]
        terms.extend((a, n, 1.0 - s) for n, s in enumerate(scores[1:], start=1))
    if not terms:
        return None, 0, None
    q = _minimise(terms)
    rmse = math.sqrt(_objective(q, terms) / len(terms))
    return 1.0 - q, len(terms), rmse


def fit_lane(score_lists: Sequence[Sequence[float]]) -> Fit:
    """Fit one lane from each counted run's per-turn scores (ERROR/ABORTED runs left out)."""
    runs = [list(s) for s in score_lists if s]
    horizon = max((len(s) for s in runs), default=0)
    padded = [carry_forward(s, horizon) for s in runs]
    observed = [sum(s[n] for s in padded) / len(padded) for n in range(horizon)]
    r, points, rmse = fit_rate(padded)
    fitted = None
    if r is not None:
        # The mean of the runs' fitted curves is the curve from the mean s1 (linear in 1 - s1).
        fitted = model_curve(observed[0], r, horizon)
    return Fit(r=r, points=points, rmse=rmse, observed=observed, fitted=fitted)


def target_score(total_checks: int) -> float:
    """The score standing for "every check passes": half a check short of 1.0."""
    if total_checks <= 0:
        return FALLBACK_TARGET
    return 1.0 - 0.5 / total_checks


def turns_to_reach(s1: float, r: float | None, target: float) -> int | None:
    """The first whole turn at which the modelled curve from ``s1`` reaches ``target``.

    None when it never does (``r`` is 0, or unknown while ``s1`` is short).
    """
    if s1 >= target:
        return 1
    if r is None or r <= 0.0:
        return None
    if r >= 1.0:
        return 2
    # (1 - s1) q^(n-1) <= 1 - target  <=>  n - 1 >= log((1 - target)/(1 - s1)) / log(q)
    steps = math.log((1.0 - target) / (1.0 - s1)) / math.log(1.0 - r)
    return 1 + max(1, math.ceil(steps - 1e-9))


@dataclass(frozen=True)
class RunStart:
    """Where one run's fit starts: the turns spent before its first code, and that code's score."""

    offset: int  # turns before the first turn with code
    s1: float
    limit: int | None = None  # the run's turn limit; None: no limit


@dataclass(frozen=True)
class Prediction:
    """What the fit predicts for a lane: a mean time to pass, or why there is none."""

    seconds: float | None  # mean pass turn of the predicted passes × mean turn time
    turns: float | None  # mean pass turn of the runs predicted to pass
    passes: int  # runs the fit predicts to pass within their turn limit
    runs: int  # runs the prediction covers (every counted run that had code)
    why: str | None = None  # when seconds is None: "> limit", "r = 0", "no rate", "no runs", "no turn time"


def fit_start(scores: Sequence[float], no_code: Collection[int] = ()) -> tuple[int, list[float]]:
    """``(turns before the first code, the scores the fit uses from there on)`` for one run.

    ``no_code`` holds the 1-based turns whose answer had no code. Later such
    turns carry the previous code turn's score (the implementation stands).
    A run with no code at all gives ``(len(scores), [])``.
    """
    first = next((n for n in range(1, len(scores) + 1) if n not in no_code), None)
    if first is None:
        return len(scores), []
    kept = [scores[first - 1]]
    for n in range(first + 1, len(scores) + 1):
        kept.append(kept[-1] if n in no_code else scores[n - 1])
    return first - 1, kept


def predict(starts: Sequence[RunStart], r: float | None, mean_turn_s: float | None, target: float) -> Prediction:
    """The predicted pass turn of every run, and the mean time to pass of those within their limit."""
    if not starts:
        return Prediction(None, None, 0, 0, "no runs")
    pass_turns: list[int] = []
    beyond = False
    for start in starts:
        n = turns_to_reach(start.s1, r, target)
        if n is None:
            continue
        n += start.offset
        if start.limit is not None and n > start.limit:
            beyond = True
            continue
        pass_turns.append(n)
    if not pass_turns:
        why = "> limit" if beyond else ("no rate" if r is None else "r = 0")
        return Prediction(None, None, 0, len(starts), why)
    mean_turns = sum(pass_turns) / len(pass_turns)
    if mean_turn_s is None:
        return Prediction(None, mean_turns, len(pass_turns), len(starts), "no turn time")
    return Prediction(mean_turns * mean_turn_s, mean_turns, len(pass_turns), len(starts))
