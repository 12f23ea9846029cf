"""Live bench progress: per-lane counts, mean time to pass so far, and the ETA."""

from __future__ import annotations

import pytest
from support.bench_events import Run, race

from loopterm.stats.progress import BenchProgress

# Every turn of these runs takes 1.25 s (bench_events: 1 s model + 0.25 s validation).


def fed(runs: list[Run], until: float, concurrency: int | None = None) -> BenchProgress:
    """A progress fed every event of the race up to race time ``until``."""
    progress = BenchProgress(concurrency)
    for event in race(runs)[:-1]:  # no race_done: the bench is still going
        if event.t <= until:
            progress(event)
    progress.now = until
    return progress


def test_eta_waits_for_every_lane_then_counts_what_is_left_of_each_run() -> None:
    runs = [
        Run("a1", [0.5, 1.0]),  # 0 to 2.5 s
        Run("a2", [0.5, 0.7, 1.0]),  # 0 to 3.75 s
        Run("b1", [0.5, 1.0], name="B", model="b", start=2.5),  # to 5 s
        Run("b2", [0.2, 0.4, 0.6, 1.0], name="B", model="b", start=3.75),  # to 8.75 s
    ]
    assert fed(runs, 1.0, 2).eta_s() is None  # no lane has a finished run yet
    assert fed(runs, 3.0, 2).eta_s() is None  # lane B has none yet
    p = fed(runs, 5.0, 2)
    # B's runs took 2 turns of 1.25 s; b2 has just started its turn 2: one turn left.
    assert p.eta_s() == pytest.approx(1.25)
    assert p.eta_s(now=5.5) == pytest.approx(0.75)
    a = p.lane_of["a1"]
    assert (a.done, a.total, a.passed) == (2, 2, 2)
    assert a.mean_time_to_pass_s == pytest.approx((2.5 + 3.75) / 2)
    assert a.mean_turns == 2.5 and a.mean_turn_s == pytest.approx(1.25)
    done = fed(runs, 10.0, 2)
    assert done.eta_s() == 0.0 and done.done == done.total == 4


def test_a_run_past_every_finished_run_of_its_lane_is_taken_to_need_one_more_turn() -> None:
    runs = [Run("a1", [0.5, 1.0]), Run("a2", [0.5, 0.6, 0.7, 1.0])]
    # At 4 s a2 is 0.25 s into turn 4; a1 passed in 2 turns: a2 is long already, not nearly done.
    assert fed(runs, 4.0).eta_s() == pytest.approx(1.0 + 1.25)
    # On the turn limit there is no turn after this one.
    assert fed(runs, 4.0).remaining_s("a2", 4.0) == pytest.approx(2.25)
    limited = fed([Run("a1", [0.5, 1.0]), Run("a2", [0.5, 0.6, 0.7, 0.8])], 4.0)
    limited.max_turns = 4
    assert limited.eta_s() == pytest.approx(1.0)


def test_a_run_is_expected_to_take_as_long_as_the_finished_runs_that_got_as_far() -> None:
    # Lane A's finished runs took 2 and 10 turns (mean 6); a3, started at 5 s, is 0.1 s into its turn 7
    # at 12.6 s: it is like the run that got past turn 7 and took 10, so 3 more turns after this one.
    runs = [Run("a1", [0.5, 1.0]), Run("a2", [0.5] * 9 + [1.0]), Run("a3", [0.5] * 11 + [1.0], start=5.0)]
    p = fed(runs, 12.6)
    assert p.lane_of["a1"].run_turns == [2, 10]
    assert p.eta_s() == pytest.approx(1.15 + 3 * 1.25)


def test_the_eta_never_falls_to_nothing_while_a_run_is_still_going() -> None:
    """The ETA fell to 0 s as a long run's turn ran over, then sprang back up when it took another."""
    runs = [Run("a1", [0.5, 1.0]), Run("a2", [0.5] * 5 + [1.0])]  # a1 ends at 2.5 s, a2 at 7.5 s
    turn_s = 1.25
    for step in range(51, 150):  # from just after a1 ended to just before a2 ends
        now = step * 0.05
        p = fed(runs, now)
        eta = p.eta_s()
        assert eta is not None and eta >= turn_s / 2, (now, eta)


def test_queued_runs_take_the_next_free_slot() -> None:
    runs = [Run("a1", [0.5, 1.0]), Run("a2", [0.5, 1.0], start=2.5), Run("a3", [1.0], start=5.0)]
    # At 3 s: a2 has 0.75 s of turn 1 and one more turn (2 s); a3 then needs 2 turns (2.5 s).
    assert fed(runs, 3.0, concurrency=1).eta_s() == pytest.approx(4.5)


def test_errors_are_counted_but_not_timed() -> None:
    runs = [Run("a1", [0.0], outcome="ERROR"), Run("a2", [0.5, 1.0], start=0.1)]
    p = fed(runs, 1.1)
    lane = p.lane_of["a1"]
    assert (lane.done, lane.errors, lane.passed) == (1, 1, 0)
    assert lane.mean_turns is None and lane.mean_turn_s is None
    assert p.eta_s() is None


def test_before_a_lane_finishes_a_run_the_eta_is_a_lower_bound() -> None:
    from loopterm.stats.progress import eta_text

    runs = [Run("a1", [0.5, 1.0]), Run("b1", [0.2, 0.4, 1.0], name="B", model="b")]
    secs = "{:.2f} s".format
    assert eta_text(fed(runs, 1.0), 1.0, secs) == "ETA ?"  # no turn has ended anywhere
    p = fed(runs, 2.6)  # a1 passed at 2.5 s; b1 is 0.1 s into its turn 3 of 1.25 s
    assert p.eta_s() is None
    # B is taken to need the 3 turns b1 has reached: 1.15 s left of turn 3, nothing after.
    assert p.eta_s(floor=True) == pytest.approx(1.15)
    assert eta_text(p, 2.6, secs) == "ETA ≥ 1.15 s"
    assert eta_text(p, 2.6) == "ETA ≥ 2 s"  # an estimate, rounded up to whole seconds
    assert eta_text(fed(runs, 3.0), 3.0) == "ETA ?"  # a floor under a second says nothing
    done = fed(runs, 4.0)
    assert eta_text(done, 4.0, secs) == "ETA 0.00 s"


def printed(runs: list[Run], **kw: object) -> list[str]:
    """The plain bench progress lines for a whole race of these runs."""
    import io

    from rich.console import Console

    from loopterm.plain.bench import ProgressPrinter

    buffer = io.StringIO()
    progress = BenchProgress()
    printer = ProgressPrinter(progress, Console(file=buffer, width=300, highlight=False))
    for event in race(runs, **kw):  # type: ignore[arg-type]
        progress(event)
        printer(event)
    return buffer.getvalue().splitlines()


def test_header_counts_agree_with_their_nouns() -> None:
    assert " · 1 lane × 1 run · max 1 turn" in printed([Run("a1", [1.0])], max_turns=1)[0]
    two = printed(
        [
            Run("a1", [1.0]),
            Run("a2", [1.0]),
            Run("b1", [1.0], name="B", model="b"),
            Run("b2", [1.0], name="B", model="b"),
        ]
    )
    assert " · 2 lanes × 2 runs · max 15 turns" in two[0]


def test_a_stopped_bench_says_stopped_not_all_done() -> None:
    lines = printed([Run("a1", [0.5, 1.0]), Run("a2", [0.5], outcome="ABORTED")])
    assert lines[-1].endswith("│ stopped · 1 of 2 runs finished")
    assert not any("all done" in line for line in lines)
    finished = printed([Run("a1", [0.5, 1.0]), Run("a2", [1.0])])
    assert finished[-1].endswith("│ all done")
