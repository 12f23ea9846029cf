"""One summary per lane run, folded from that run's events.

This is the single code path behind the end-of-race table, ``race --json``,
and every aggregate a benchmark reports.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from loopterm.events import (
    Event,
    GenerationDone,
    LaneDone,
    LaneInfo,
    Outcome,
    RaceStarted,
    TurnDone,
    TurnStatus,
)
from loopterm.loop.judge import ranked as places_given


@dataclass
class RunSummary:
    info: LaneInfo
    outcome: Outcome | None = None  # None while the run is still going
    reason: str = ""
    turns: int = 0
    time_to_pass_s: float | None = None
    wall_s: float | None = None  # to the lane's end, from where its time to pass counts (race or lane start)
    best_score: float = 0.0
    final_score: float = 0.0
    scores: list[float] = field(default_factory=list)  # score after each turn
    checks_total: int = 0  # checks in the suite (from the last turn); sets the bench fit's target
    statuses: list[TurnStatus] = field(default_factory=list)
    turn_end_s: list[float] = field(default_factory=list)  # lane-relative time each turn ended
    place: int | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    tokens_estimated: bool = False
    cost: float | None = None
    retries: int = 0
    model_s: list[float] = field(default_factory=list)
    validation_s: list[float] = field(default_factory=list)
    harness_s: list[float] = field(default_factory=list)
    start_t: float = 0.0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def passed(self) -> bool:
        return self.outcome == Outcome.PASS

    def median_ms(self) -> dict[str, float | None]:
        def med(values: list[float]) -> float | None:
            return round(statistics.median(values) * 1000, 3) if values else None

        return {
            "model": med(self.model_s),
            "validation": med(self.validation_s),
            "harness": med(self.harness_s),
        }

    def to_json(self) -> dict[str, Any]:
        """The per-lane object of ``race --json``."""
        return {
            "name": self.info.name,
            "run_id": self.info.run_id,
            "provider": self.info.provider,
            "model": self.info.model,
            "class": self.info.lane_class,
            "simulated": self.info.simulated,
            "outcome": self.outcome,
            "reason": self.reason,
            "place": self.place,
            "turns": self.turns,
            "time_to_pass_s": self.time_to_pass_s,
            "best_score": self.best_score,
            "final_score": self.final_score,
            "statuses": self.statuses,
            "tokens": {
                "prompt": self.prompt_tokens,
                "completion": self.completion_tokens,
                "reasoning": self.reasoning_tokens,
                "estimated": self.tokens_estimated,
            },
            "cost": self.cost,
            "retries": self.retries,
            "median_ms": self.median_ms(),
        }


def price_known(lane: LaneInfo) -> bool:
    """A simulated lane costs nothing; any other lane's cost is known when its lanes file or preset gives a price.

    A run of such a lane costs $0 until a generation is billed (a lane stopped
    before its first answer spent nothing); with no price it is n/a throughout.
    """
    return lane.simulated or (lane.price_in is not None and lane.price_out is not None)


def summarize(events: Iterable[Event]) -> list[RunSummary]:
    """Fold a race's events into one summary per lane run, in the race's lane order."""
    runs: dict[str, RunSummary] = {}
    origin: float | None = None  # where times to pass count from: the race start in a race, else None
    ranked = True  # a race's lanes have places; a bench's runs are independent and have none (the judge's rule)
    for event in events:
        if isinstance(event, RaceStarted):
            origin = event.t if event.timed_from_race_start else None
            ranked = places_given(event)
            for lane in event.lanes:
                runs[lane.run_id] = RunSummary(info=lane, cost=0.0 if price_known(lane) else None)
            continue
        run = runs.get(getattr(event, "lane", ""))
        if run is None:
            continue
        if event.type == "lane_started":
            run.start_t = event.t
        elif isinstance(event, GenerationDone):
            run.prompt_tokens += event.usage.prompt
            run.completion_tokens += event.usage.completion
            run.reasoning_tokens += event.usage.reasoning
            run.tokens_estimated = run.tokens_estimated or event.usage.estimated
            run.retries += len(event.retries)
            if event.cost is not None:
                run.cost = (run.cost or 0.0) + event.cost
        elif isinstance(event, TurnDone):
            run.turns = event.turn
            run.scores.append(event.score)
            run.checks_total = event.total
            run.statuses.append(event.status)
            run.turn_end_s.append(event.t - run.start_t)
            run.final_score = event.score
            run.best_score = max(run.best_score, event.best_score)
            run.model_s.append(event.model_s)
            if event.status != TurnStatus.ERROR:
                run.validation_s.append(event.validation_s)
            run.harness_s.append(event.harness_s)
        elif isinstance(event, LaneDone):
            run.outcome = event.outcome
            run.reason = event.reason
            # Turns are the turns that ended (TurnDone events); older traces counted a turn
            # cut short by a budget or a stop here too, which disagreed with their statuses.
            run.turns = len(run.statuses)
            run.time_to_pass_s = event.time_to_pass_s
            # From the same start as the time to pass, so P90 and the mean of one run agree.
            run.wall_s = event.t - (run.start_t if origin is None else origin)
            run.best_score = max(run.best_score, event.best_score)
            # Benches recorded before runs stopped getting places still carry them: not shown.
            run.place = event.place if ranked else None
    return list(runs.values())
