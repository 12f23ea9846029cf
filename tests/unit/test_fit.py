"""The convergence fit: recovers a known r, handles the degenerate lanes, predicts."""

from __future__ import annotations

import random

import pytest
from support.bench_events import Run, race

from loopterm.stats.aggregate import build_report
from loopterm.stats.fit import (
    RunStart,
    carry_forward,
    fit_lane,
    fit_rate,
    fit_start,
    model_curve,
    predict,
    target_score,
    turns_to_reach,
)


def test_model_curve_starts_at_s1_and_closes_the_gap_by_r() -> None:
    assert model_curve(0.6, 0.5, 4) == pytest.approx([0.6, 0.8, 0.9, 0.95])
    assert model_curve(0.6, 0.0, 3) == pytest.approx([0.6, 0.6, 0.6])


def test_carry_forward_pads_with_the_last_score() -> None:
    assert carry_forward([0.5, 1.0], 4) == [0.5, 1.0, 1.0, 1.0]
    assert carry_forward([0.2, 0.4, 0.3], 3) == [0.2, 0.4, 0.3]
    assert carry_forward([], 3) == []


def test_exact_curves_give_back_r() -> None:
    runs = [model_curve(s1, 0.3, 10) for s1 in (0.2, 0.5, 0.8)]
    r, points, rmse = fit_rate(runs)
    assert r == pytest.approx(0.3, abs=1e-6)
    assert points == 27
    assert rmse == pytest.approx(0.0, abs=1e-6)


def test_noisy_curves_give_back_r_within_tolerance() -> None:
    rng = random.Random(7)
    runs = []
    for _ in range(60):
        s1 = rng.uniform(0.4, 0.9)
        runs.append(
            [min(1.0, max(0.0, s + rng.gauss(0, 0.02))) if n else s for n, s in enumerate(model_curve(s1, 0.4, 8))]
        )
    r, _, _ = fit_rate(runs)
    assert r == pytest.approx(0.4, abs=0.02)


def simulate_loop(rng: random.Random, r: float, checks: int, first_failing: int, max_turns: int) -> list[float]:
    """A discrete loop: each failing check is fixed with chance r per turn; stops on a pass."""
    failing = first_failing
    scores = [1 - failing / checks]
    while failing and len(scores) < max_turns:
        failing = sum(rng.random() >= r for _ in range(failing))
        scores.append(1 - failing / checks)
    return scores


@pytest.mark.parametrize("r", [0.3, 0.6, 0.85])
def test_runs_that_stop_on_a_pass_still_give_back_r(r: float) -> None:
    # Whole checks, passed runs stopping early (carried forward at 1.0): r still comes back.
    rng = random.Random(int(r * 100))
    runs = [simulate_loop(rng, r, 40, rng.randint(4, 12), 15) for _ in range(200)]
    fit = fit_lane(runs)
    assert fit.r == pytest.approx(r, abs=0.04)
    assert fit.fitted is not None and fit.observed[0] == fit.fitted[0]
    assert all(abs(o - f) < 0.03 for o, f in zip(fit.observed, fit.fitted, strict=True))


def test_observed_curve_carries_runs_forward() -> None:
    fit = fit_lane([[0.5, 1.0], [0.5, 0.75, 1.0], [0.25]])
    assert fit.horizon == 3
    assert fit.observed == pytest.approx([(0.5 + 0.5 + 0.25) / 3, (1 + 0.75 + 0.25) / 3, (1 + 1 + 0.25) / 3])


def test_all_one_shot_leaves_r_undefined_but_predicts_one_turn() -> None:
    fit = fit_lane([[1.0], [1.0], [1.0]])
    assert fit.r is None and fit.points == 0 and fit.fitted is None
    assert fit.observed == [1.0]
    p = predict([RunStart(0, 1.0), RunStart(0, 1.0)], fit.r, 80.0, target_score(47))
    assert (p.seconds, p.turns, p.passes, p.why) == (80.0, 1.0, 2, None)


def test_one_shots_carry_no_weight_in_the_rate() -> None:
    with_one_shots = fit_lane([[1.0], [1.0], *[model_curve(0.5, 0.5, 6)] * 2])
    assert with_one_shots.r == pytest.approx(0.5, abs=1e-6)


def test_no_improvement_gives_r_zero_and_no_prediction() -> None:
    fit = fit_lane([[0.4, 0.4, 0.4, 0.4], [0.6, 0.6, 0.6]])
    assert fit.r == 0.0
    p = predict([RunStart(0, 0.4), RunStart(0, 0.6)], fit.r, 3.0, 0.99)
    assert (p.seconds, p.turns, p.passes, p.why) == (None, None, 0, "r = 0")


def test_getting_worse_is_clamped_to_r_zero() -> None:
    assert fit_rate([[0.8, 0.6, 0.5, 0.4]])[0] == 0.0


def test_fixing_everything_in_one_turn_gives_r_one() -> None:
    assert fit_lane([[0.5, 1.0], [0.7, 1.0, 1.0]]).r == 1.0


def test_single_turn_runs_below_full_score_give_no_rate() -> None:
    fit = fit_lane([[0.5], [0.7]])  # e.g. --max-turns 1
    assert fit.r is None
    p = predict([RunStart(0, 0.5), RunStart(0, 0.7)], None, 2.0, 0.99)
    assert (p.seconds, p.why) == (None, "no rate")


def test_target_is_half_a_check_short_of_full() -> None:
    assert target_score(47) == pytest.approx(1 - 0.5 / 47)
    assert target_score(0) == 0.999


def test_turns_to_reach_is_the_first_whole_turn_at_the_target() -> None:
    # From 0.6 with r = 0.5: 0.6, 0.8, 0.9, 0.95, 0.975 ...
    assert turns_to_reach(0.6, 0.5, 0.95) == 4
    assert turns_to_reach(0.6, 0.5, 0.96) == 5
    assert turns_to_reach(1.0, None, 0.99) == 1
    assert turns_to_reach(0.6, 1.0, 0.99) == 2
    assert turns_to_reach(0.6, 0.0, 0.99) is None
    assert turns_to_reach(0.6, None, 0.99) is None


def test_prediction_averages_each_runs_pass_turn_times_turn_time() -> None:
    p = predict([RunStart(0, 1.0), RunStart(0, 0.6)], 0.5, 2.0, 0.95)
    assert p.turns == pytest.approx((1 + 4) / 2)
    assert p.seconds == pytest.approx(5.0)
    assert (p.passes, p.runs) == (2, 2)


def test_lane_row_predicts_beside_the_measurement() -> None:
    # Every run follows r = 0.5 exactly from 0.5 up to the 40-check target, then passes.
    target = target_score(40)
    runs = []
    for i in range(4):
        curve = model_curve(0.5, 0.5, 15)
        n = next(k for k, s in enumerate(curve, start=1) if s >= target)
        runs.append(Run(f"a-r{i:02d}", [*curve[: n - 1], 1.0]))
    row = build_report([race(runs)]).rows[0]
    assert row.fitted_r == pytest.approx(0.5, abs=0.01)
    assert row.predicted_turns == row.median_iterations
    assert row.predicted_time_to_pass_s == pytest.approx(row.mean_time_to_pass_s)


def test_fit_starts_at_the_first_turn_with_code() -> None:
    # Turn 1 had no code (score 0): the run starts at turn 2; turn 4 had none either
    # and carries turn 3's score (the implementation the loop keeps sending back).
    assert fit_start([0.0, 0.6, 0.8, 0.0, 0.9], {1, 4}) == (1, [0.6, 0.8, 0.8, 0.9])
    assert fit_start([0.5, 0.75], ()) == (0, [0.5, 0.75])
    assert fit_start([0.0, 0.0], {1, 2}) == (2, [])


def test_prediction_adds_the_turns_before_the_first_code() -> None:
    # From 0.6 with r = 0.5 the curve reaches 0.95 on its 4th turn; one no-code turn before it: turn 5.
    p = predict([RunStart(1, 0.6, limit=15)], 0.5, 2.0, 0.95)
    assert (p.turns, p.seconds, p.passes, p.runs) == (5.0, 10.0, 1, 1)


def test_a_pass_beyond_the_turn_limit_is_no_pass() -> None:
    # From 0.6 with r = 0.1 the target 0.99 takes 1 + ceil(log(0.025)/log(0.9)) = 37 turns.
    assert turns_to_reach(0.6, 0.1, 0.99) == 37
    p = predict([RunStart(0, 0.6, limit=15), RunStart(0, 0.6, limit=15)], 0.1, 2.0, 0.99)
    assert (p.seconds, p.turns, p.passes, p.runs, p.why) == (None, None, 0, 2, "> limit")
    assert predict([RunStart(0, 0.6, limit=40)], 0.1, 2.0, 0.99).turns == 37
    # Some runs within the limit: the mean is over those, like the measured mean time to pass.
    mixed = predict([RunStart(0, 0.6, limit=15), RunStart(0, 0.98, limit=15)], 0.1, 2.0, 0.99)
    assert (mixed.turns, mixed.passes, mixed.runs) == (turns_to_reach(0.98, 0.1, 0.99), 1, 2)


def test_a_no_code_first_turn_does_not_inflate_r() -> None:
    # Every run: no code on turn 1 (score 0), then r = 0.2 exactly from 0.6; the turn limit is 15.
    curve = model_curve(0.6, 0.2, 10)
    runs = [Run(f"w-r{i:02d}", [0.0, *curve], outcome="THRASH", no_code=frozenset({1})) for i in range(3)]
    row = build_report([race(runs, max_turns=15)]).rows[0]
    assert row.fitted_r == pytest.approx(0.2, abs=1e-6)
    assert row.fit.observed[0] == pytest.approx(0.6)
    # 0.6 -> the 40-check target takes 1 + ceil(log(0.0125/0.4)/log(0.8)) = 17 turns, +1 no-code: > 15
    assert row.predicted_time_to_pass_s is None and row.prediction.why == "> limit"
    assert row.to_json()["prediction_note"] == "> limit" and row.to_json()["predicted_passes"] == 0


def test_without_the_code_start_the_zero_would_have_predicted_a_pass() -> None:
    # The same scores with the no-code turn taken as a real start: the proof the start matters.
    curve = model_curve(0.6, 0.2, 10)
    runs = [Run(f"w-r{i:02d}", [0.0, *curve], outcome="THRASH") for i in range(3)]
    row = build_report([race(runs, max_turns=15)]).rows[0]
    assert row.fitted_r is not None and row.fitted_r > 0.3


def test_the_table_cell_says_why_there_is_no_prediction() -> None:
    from loopterm.stats.export import detail_cells

    def cell(runs: list[Run], **kw: object) -> str:
        report = build_report([race(runs, **kw)])  # type: ignore[arg-type]
        return detail_cells(report.rows[0], report.rows)[2]

    stalled = [Run(f"s{i}", model_curve(0.6, 0.2, 6), outcome="THRASH") for i in range(2)]
    assert cell(stalled, max_turns=6) == "> limit"
    flat = [Run(f"f{i}", [0.5, 0.5, 0.5], outcome="THRASH") for i in range(2)]
    assert cell(flat) == "never"
    # r = 0.5 exactly, limit 7, target 0.9875: from 0.5 the curve gets there on turn 7, from 0.0 on turn 8.
    mixed = [Run("a", model_curve(0.5, 0.5, 7)), Run("b", model_curve(0.0, 0.5, 7))]
    assert cell(mixed, max_turns=7) == "8.8 s (1/2)"  # 7 turns × 1.25 s, for the one run predicted to pass
