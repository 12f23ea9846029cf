"""The benchmark results table, computed from events only.

``loopterm bench`` (at its end, from the events it just emitted) and
``loopterm report`` (from stored traces) both call :func:`build_report`, so
they print the same numbers. Runs of the same lane (same name, provider and
model) are merged into one row, across any number of races and benchmarks.

Which runs count: a run that ended in ERROR (infrastructure: the provider or
the harness failed, never the model's answer) or ABORTED (the race was
stopped) says nothing about the model. Both are left out of every figure and
shown as their own counts. A run with no end yet (a bench still running) is
left out too, and counted as running. Every other run (PASS, THRASH, TURN_LIMIT, BUDGET) is a counted run.

The columns, for one lane:

- ``runs``: counted runs.
- ``passed``: counted runs that ended in PASS (Runs Passed = passed/runs).
- ``one_shot``: passed runs that passed on turn 1.
- ``median_iterations``: median turn count of passed runs (the mean of the
  two middle values when their number is even); None with no passed run.
- ``mean_time_to_pass_s``: arithmetic mean of passed runs' time to pass: from
  the run's start (a race's lanes: the race start) to the end of the
  validation that passed.
- ``p90_s``: 90th percentile, nearest-rank method, of the wall-clock of every
  counted run, passed or not (to its end, from the same start as its time to
  pass: the race start for a race's lanes, the run's start in a bench): sort the n values
  ascending and take the one at 1-based rank ceil(0.9 n). With fewer than 10
  runs that is the slowest run; with 10 to 19 it is the second slowest.
- ``best_failed_score``: the highest final score among counted runs that did
  not pass; None when every counted run passed.
- ``errors`` / ``aborted`` / ``running``: runs ended in ERROR / ABORTED, and runs with no end yet (not counted).
- ``mean_model_s`` / ``mean_validation_s`` / ``mean_turn_s``: means over every
  turn of every counted run of the model's time (request to last token), the
  validation time, and the whole turn (from the previous turn's end, or the
  run's start, to this turn's end: model + validation + harness).
- ``tokens_per_run``: mean prompt + completion tokens per counted run.
- ``cost_per_run``: mean cost per counted run; ``cost_per_passed_run``: the
  total cost of all counted runs divided by the passed runs (what one pass
  costs, failures included). None when a price is unknown or nothing passed.
- ``fitted_r``, ``predicted_time_to_pass_s``, ``predicted_turns``,
  ``predicted_passes``, ``prediction_note``: see :mod:`loopterm.stats.fit` (each
  run's fit starts at its first turn with code, read from its ValidationDone events).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from loopterm.events import Event, Outcome, RaceDone, RaceStarted, ValidationDone
from loopterm.stats.fit import Fit, Prediction, RunStart, fit_lane, fit_start, predict, target_score
from loopterm.stats.runs import RunSummary, summarize
from loopterm.words import display_name

NOT_COUNTED = frozenset({Outcome.ERROR, Outcome.ABORTED})


def counted(run: RunSummary) -> bool:
    """A finished run that says something about the model (not ERROR, not ABORTED)."""
    return run.outcome is not None and run.outcome not in NOT_COUNTED


def percentile_nearest_rank(values: Sequence[float], p: int) -> float | None:
    """The nearest-rank percentile: the value at 1-based rank ceil(p/100 * n) of the sorted values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, -(-p * len(ordered) // 100))  # integer ceil: no float error at exact ranks
    return ordered[rank - 1]


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _turn_durations(run: RunSummary) -> list[float]:
    ends = run.turn_end_s
    return [end - (ends[i - 1] if i else 0.0) for i, end in enumerate(ends)]


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


@dataclass
class Source:
    """One race or benchmark a report reads from."""

    id: str
    kind: str
    task_id: str
    max_turns: int
    time_scale: float
    seed: int | None
    started_at: str
    bench: bool = False  # a benchmark's runs (a rescore of a benchmark too)
    running: bool = False  # still being written: no race_done yet

    @classmethod
    def of(cls, started: RaceStarted, *, running: bool = False) -> Source:
        return cls(
            started.race_id,
            started.kind,
            started.task_id,
            started.max_turns,
            started.time_scale,
            started.seed,
            started.started_at,
            bench=started.is_bench,
            running=running,
        )


@dataclass
class BenchRun:
    """One lane run and the race it came from (run ids repeat across races)."""

    race_id: str
    summary: RunSummary
    max_turns: int | None = None  # the race's turn limit
    no_code: frozenset[int] = frozenset()  # turns whose answer had no code (for the fit's start)

    def to_json(self) -> dict[str, Any]:
        s = self.summary
        return {
            "lane": s.info.name,
            "race_id": self.race_id,
            "run_id": s.info.run_id,
            "outcome": s.outcome,
            "reason": s.reason,  # why it ended: what an ERROR run was (it is not counted)
            "turns": s.turns,
            "wall_s": _round(s.wall_s, 3),
            "time_to_pass_s": _round(s.time_to_pass_s, 3),
            "final_score": round(s.final_score, 4),
            "scores": [round(x, 4) for x in s.scores],
        }


LaneKey = tuple[str, str, str]  # name, provider, model


def lane_key(run: RunSummary) -> LaneKey:
    return run.info.name, run.info.provider, run.info.model


@dataclass
class LaneRow:
    """One row of the table: every run of one lane merged."""

    lane: str
    provider: str
    model: str
    lane_class: str
    simulated: bool
    runs: int
    passed: int
    errors: int
    aborted: int
    running: int
    one_shot: int
    median_iterations: float | None
    mean_time_to_pass_s: float | None
    p90_s: float | None
    best_failed_score: float | None
    fit: Fit
    target_score: float
    prediction: Prediction
    mean_model_s: float | None
    mean_validation_s: float | None
    mean_turn_s: float | None
    tokens_per_run: float | None
    tokens_estimated: bool
    cost_per_run: float | None
    cost_per_passed_run: float | None
    error_reasons: list[str] = field(default_factory=list)  # distinct, in order of first seen

    @property
    def fitted_r(self) -> float | None:
        return self.fit.r

    @property
    def predicted_turns(self) -> float | None:
        return self.prediction.turns

    @property
    def predicted_time_to_pass_s(self) -> float | None:
        return self.prediction.seconds

    def to_json(self) -> dict[str, Any]:
        fitted = self.fit.fitted
        return {
            "lane": self.lane,
            "class": self.lane_class,
            "provider": self.provider,
            "model": self.model,
            "runs": self.runs,
            "passed": self.passed,
            "errors": self.errors,
            "aborted": self.aborted,
            "running": self.running,
            "one_shot": self.one_shot,
            "median_iterations": self.median_iterations,
            "mean_time_to_pass_s": _round(self.mean_time_to_pass_s, 3),
            "p90_s": _round(self.p90_s, 3),
            "best_failed_score": _round(self.best_failed_score, 4),
            "fitted_r": _round(self.fit.r, 4),
            "predicted_time_to_pass_s": _round(self.predicted_time_to_pass_s, 3),
            "predicted_turns": _round(self.predicted_turns, 3),
            "predicted_passes": self.prediction.passes,
            "prediction_note": self.prediction.why,
            "target_score": round(self.target_score, 4),
            "mean_model_s": _round(self.mean_model_s, 3),
            "mean_validation_s": _round(self.mean_validation_s, 3),
            "mean_turn_s": _round(self.mean_turn_s, 3),
            "tokens_per_run": _round(self.tokens_per_run, 1),
            "tokens_estimated": self.tokens_estimated,
            "cost_per_run": _round(self.cost_per_run, 6),
            "cost_per_passed_run": _round(self.cost_per_passed_run, 6),
            "simulated": self.simulated,
            "observed_curve": [round(x, 4) for x in self.fit.observed],
            "fitted_curve": None if fitted is None else [round(x, 4) for x in fitted],
        }


def lane_row(bench_runs: Sequence[BenchRun]) -> LaneRow:
    """The row of one lane from all of its runs (any outcome; not-counted runs are only counted)."""
    runs = [b.summary for b in bench_runs]
    first = runs[0].info
    kept = [b for b in bench_runs if counted(b.summary)]
    done = [b.summary for b in kept]
    passes = [r for r in done if r.passed]
    failed = [r for r in done if not r.passed]
    ttp = [r.time_to_pass_s for r in passes if r.time_to_pass_s is not None]
    walls = [r.wall_s for r in done if r.wall_s is not None]
    turns = [d for r in done for d in _turn_durations(r)]
    costs = [r.cost for r in done]
    known_cost = bool(done) and all(c is not None for c in costs)
    total_cost = sum(c for c in costs if c is not None)

    starts: list[RunStart] = []
    curves: list[list[float]] = []
    for b in kept:
        offset, scores = fit_start(b.summary.scores, b.no_code)
        if scores:
            curves.append(scores)
            starts.append(RunStart(offset, scores[0], b.max_turns))
    fit = fit_lane(curves)
    target = target_score(max((r.checks_total for r in done), default=0))
    mean_turn = _mean(turns)
    return LaneRow(
        lane=first.name,
        provider=first.provider,
        model=first.model,
        lane_class=first.lane_class,
        simulated=first.simulated,
        runs=len(done),
        passed=len(passes),
        errors=sum(r.outcome == Outcome.ERROR for r in runs),
        aborted=sum(r.outcome == Outcome.ABORTED for r in runs),
        running=sum(r.outcome is None for r in runs),
        one_shot=sum(r.turns == 1 for r in passes),
        median_iterations=float(statistics.median(r.turns for r in passes)) if passes else None,
        mean_time_to_pass_s=_mean(ttp),
        p90_s=percentile_nearest_rank(walls, 90),
        best_failed_score=max((r.final_score for r in failed), default=None),
        fit=fit,
        target_score=target,
        prediction=predict(starts, fit.r, mean_turn, target),
        mean_model_s=_mean([x for r in done for x in r.model_s]),
        mean_validation_s=_mean([x for r in done for x in r.validation_s]),
        mean_turn_s=mean_turn,
        tokens_per_run=_mean([r.tokens for r in done]),
        tokens_estimated=any(r.tokens_estimated for r in done),
        cost_per_run=total_cost / len(done) if known_cost else None,
        cost_per_passed_run=total_cost / len(passes) if known_cost and passes else None,
        error_reasons=list(dict.fromkeys(r.reason for r in runs if r.outcome == Outcome.ERROR)),
    )


@dataclass
class Report:
    """The table for one or more races/benchmarks, plus every run behind it."""

    sources: list[Source]
    rows: list[LaneRow]
    runs: list[BenchRun]
    warnings: list[str] = field(default_factory=list)

    @property
    def ids(self) -> list[str]:
        return [s.id for s in self.sources]

    def to_json(self) -> dict[str, Any]:
        """The shape both ``bench --json`` and ``report --format json`` print."""
        return {
            "ids": self.ids,
            "rows": [row.to_json() for row in self.rows],
            "runs": [run.to_json() for run in self.runs],
        }


def _started(events: Sequence[Event]) -> RaceStarted:
    for event in events:
        if isinstance(event, RaceStarted):
            return event
    raise ValueError("the events hold no race_started: not a race")


class UnknownLanes(ValueError):
    """``--lanes`` names that match no lane of the races read."""

    def __init__(self, unknown: Sequence[str], available: Sequence[str], ambiguous: Sequence[str] = ()) -> None:
        self.unknown = list(unknown)
        self.available = list(available)
        names = ", ".join(self.unknown)
        if ambiguous:
            super().__init__(f"{names!s} matches several lanes: {', '.join(ambiguous)}; give more of the name")
            return
        listed = ", ".join(self.available) or "none"
        super().__init__(f"no lane matches {names}; lanes in these races: {listed}")


def _only(lanes: Sequence[str], runs: list[BenchRun]) -> list[BenchRun]:
    """The runs of the lanes named. A name matches case-insensitively the lane's name, its run-id
    slug or ``provider:model``, or else a prefix of one lane's shown name (``mini`` for
    ``Mini (sim)``) when no other lane's shown name has that prefix."""
    shown = {id(r): display_name(r.summary.info.name, r.summary.info.simulated) for r in runs}
    available = list(dict.fromkeys(shown.values()))
    keep: set[int] = set()
    unknown: list[str] = []
    for name in lanes:
        folded = name.casefold()
        exact = [r for r in runs if folded in lane_names(r.summary)]
        if not exact:
            prefixed = [text for text in available if text.casefold().startswith(folded)]
            if len(prefixed) > 1:
                raise UnknownLanes([name], available, ambiguous=prefixed)
            exact = [r for r in runs if prefixed and shown[id(r)] == prefixed[0]]
        if not exact:
            unknown.append(name)
        keep.update(id(r) for r in exact)
    if unknown:
        raise UnknownLanes(unknown, available)
    return [r for r in runs if id(r) in keep]


def build_report(races: Iterable[Sequence[Event]], lanes: Sequence[str] | None = None) -> Report:
    """The report over each race's events; ``lanes`` keeps only rows matching those names (:func:`_only`).

    A name that matches no lane, or a prefix of several, raises
    :class:`UnknownLanes`: a typo must not quietly shrink the table.
    """
    sources: list[Source] = []
    runs: list[BenchRun] = []
    for events in races:
        started = _started(events)
        sources.append(Source.of(started, running=not any(isinstance(e, RaceDone) for e in events)))
        no_code: dict[str, set[int]] = {}
        for event in events:
            if isinstance(event, ValidationDone) and event.code is None:
                no_code.setdefault(event.lane, set()).add(event.turn)
        runs.extend(
            BenchRun(started.race_id, s, started.max_turns, frozenset(no_code.get(s.info.run_id, ())))
            for s in summarize(events)
        )

    if lanes is not None:
        runs = _only(lanes, runs)

    groups: dict[LaneKey, list[BenchRun]] = {}
    for run in runs:
        groups.setdefault(lane_key(run.summary), []).append(run)
    rows = [lane_row(group) for group in groups.values()]
    return Report(sources, rows, runs, _mixing_warnings(sources, groups))


def lane_names(run: RunSummary) -> set[str]:
    """Every name a ``--lanes`` filter may use for this run's lane, case-folded."""
    from loopterm.loop.race import slug

    info = run.info
    # The name as tables print it too: a lanes-file sim lane "Mercury" is shown "Mercury (sim)".
    shown = display_name(info.name, info.simulated)
    return {info.name.casefold(), shown.casefold(), slug(info.name), f"{info.provider}:{info.model}".casefold()}


def _mixing_warnings(sources: list[Source], groups: dict[LaneKey, list[BenchRun]]) -> list[str]:
    """Merging runs recorded under different conditions is allowed, but said."""
    warnings = []
    by_id = {s.id: s for s in sources}
    if len({s.task_id for s in sources}) > 1:
        tasks = ", ".join(sorted({s.task_id for s in sources}))
        warnings.append(f"these races ran different tasks ({tasks}); rows mix them")
    for (lane, _, _), group in groups.items():
        sims = group[0].summary.info.simulated
        name = display_name(lane, sims)
        scales = {by_id[r.race_id].time_scale for r in group}
        if sims and len(scales) > 1:
            shown = ", ".join(f"×{x:g}" for x in sorted(scales))
            warnings.append(f"{name}: runs at different simulated time scales ({shown}); its times mix them")
        limits = {by_id[r.race_id].max_turns for r in group}
        if len(limits) > 1:
            shown = ", ".join(str(x) for x in sorted(limits))
            warnings.append(f"{name}: runs with different turn limits ({shown})")
    return warnings
