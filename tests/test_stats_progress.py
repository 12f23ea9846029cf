"""Live bench progress: per-lane counts, mean time to pass so far, and the ETA."""

from __future__ import annotations

import pytest
from bench_events import Run, race

from loopterm.events import LaneDone, LaneStarted, Outcome
from loopterm.stats.progress import BenchProgress


def done(run_id: str, t: float, start: float, outcome: Outcome = Outcome.PASS) -> LaneDone:
    return LaneDone(
        t=t, lane=run_id, outcome=outcome, reason="test", turns=1,
        time_to_pass_s=t - start if outcome is Outcome.PASS else None, best_score=1.0, final_score=1.0,
    )


def test_eta_waits_for_every_lane_then_counts_running_and_queued_runs() -> None:
    started = race([Run("a1", [1.0]), Run("a2", [1.0]), Run("b1", [1.0], name="B", model="b"),
                    Run("b2", [1.0], name="B", model="b")])[0]
    p = BenchProgress(concurrency=2)
    p(started)
    p(LaneStarted(t=0.0, lane="a1"))
    p(LaneStarted(t=0.0, lane="a2"))
    assert p.eta_s() is None  # no lane has a finished run yet
    p(done("a1", 4.0, 0.0))
    p(LaneStarted(t=4.0, lane="b1"))
    assert p.eta_s() is None  # lane B has none yet
    p(done("a2", 6.0, 0.0, Outcome.THRASH))
    p(LaneStarted(t=6.0, lane="b2"))
    p(done("b1", 7.0, 4.0))
    # b2 runs since 6 s and B's runs take 3 s: 2 s left.
    assert p.eta_s() == pytest.approx(2.0)
    assert p.eta_s(now=8.5) == pytest.approx(0.5)
    a = p.lane_of["a1"]
    assert (a.done, a.total, a.passed, a.mean_time_to_pass_s) == (2, 2, 1, 4.0)
    assert a.expected_run_s == pytest.approx(5.0)
    p(done("b2", 9.0, 6.0))
    assert p.eta_s() == 0.0 and p.done == p.total == 4


def test_queued_runs_take_the_next_free_slot() -> None:
    p = BenchProgress(concurrency=1)
    p(race([Run("a1", [1.0]), Run("a2", [1.0]), Run("a3", [1.0])])[0])
    p(LaneStarted(t=0.0, lane="a1"))
    p(done("a1", 2.0, 0.0))
    p(LaneStarted(t=2.0, lane="a2"))
    # a2 has 1 s left at t = 3; a3 then takes its 2 s: 3 s in all.
    assert p.eta_s(now=3.0) == pytest.approx(3.0)


def test_errors_are_counted_but_not_timed() -> None:
    p = BenchProgress()
    p(race([Run("a1", [1.0]), Run("a2", [1.0])])[0])
    p(LaneStarted(t=0.0, lane="a1"))
    p(LaneStarted(t=0.0, lane="a2"))
    p(done("a1", 0.5, 0.0, Outcome.ERROR))
    lane = p.lane_of["a1"]
    assert (lane.done, lane.errors, lane.passed) == (1, 1, 0)
    assert lane.expected_run_s is None and p.eta_s() is None
