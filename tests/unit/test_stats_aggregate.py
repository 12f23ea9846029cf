"""The benchmark table on hand-built races with known answers."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.bench_events import TOTAL, Run, race

from loopterm.stats.aggregate import UnknownLanes, build_report, percentile_nearest_rank
from loopterm.traces.reader import read_race
from loopterm.traces.writer import TraceWriter


def row_of(runs: list[Run], **kw):
    report = build_report([race(runs, **kw)])
    assert len(report.rows) == 1
    return report.rows[0]


def test_nearest_rank_percentile_with_few_and_many_values() -> None:
    assert percentile_nearest_rank([], 90) is None
    assert percentile_nearest_rank([7.0], 90) == 7.0
    assert percentile_nearest_rank([1.0, 5.0, 2.0], 90) == 5.0  # fewer than 10: the slowest
    assert percentile_nearest_rank([float(x) for x in range(1, 11)], 90) == 9.0  # rank 9 of 10
    assert percentile_nearest_rank([float(x) for x in range(1, 12)], 90) == 10.0  # rank ceil(9.9)
    assert percentile_nearest_rank([float(x) for x in range(1, 21)], 90) == 18.0  # exactly rank 18
    assert percentile_nearest_rank([3.0, 1.0], 50) == 1.0


def test_passed_runs_median_of_even_count_one_shots_and_mean_time() -> None:
    runs = [
        Run("a-r01", [1.0]),
        Run("a-r02", [0.5, 1.0]),
        Run("a-r03", [0.5, 0.75, 1.0]),
        Run("a-r04", [0.5, 0.6, 0.7, 0.8, 1.0]),
    ]
    row = row_of(runs)
    assert (row.runs, row.passed, row.one_shot, row.errors) == (4, 4, 1, 0)
    assert row.median_iterations == 2.5  # turns 1, 2, 3, 5: mean of the middle two
    turn = 1.25
    assert row.mean_time_to_pass_s == pytest.approx((1 + 2 + 3 + 5) * turn / 4)
    assert row.p90_s == pytest.approx(5 * turn)  # 4 runs: rank 4, the slowest
    assert row.best_failed_score is None
    assert row.mean_model_s == pytest.approx(1.0)
    assert row.mean_validation_s == pytest.approx(0.25)
    assert row.mean_turn_s == pytest.approx(turn)


def test_odd_count_median_is_the_middle_value() -> None:
    row = row_of([Run("r1", [1.0]), Run("r2", [0.2, 0.5, 1.0]), Run("r3", [0.5, 0.9, 0.9, 1.0])])
    assert row.median_iterations == 3.0


def test_p90_covers_failed_runs_too() -> None:
    runs = [Run(f"r{i:02d}", [0.5, 1.0]) for i in range(9)]
    runs.append(Run("slow", [0.5] * 8, outcome="TURN_LIMIT"))
    runs.append(Run("slower", [0.4] * 12, outcome="TURN_LIMIT"))
    row = row_of(runs)
    assert row.runs == 11
    assert row.p90_s == pytest.approx(8 * 1.25)  # rank ceil(9.9) = 10 of 11: the failed 8-turn run
    assert row.mean_time_to_pass_s == pytest.approx(2 * 1.25)  # failed runs are not in the mean


def test_all_failed_lane() -> None:
    runs = [
        Run("w1", [0.1, 0.125, 0.125], outcome="THRASH"),
        Run("w2", [0.05, 0.1], outcome="BUDGET"),
        Run("w3", [0.0] * 5),
    ]
    row = row_of(runs)
    assert (row.runs, row.passed, row.one_shot) == (3, 0, 0)
    assert row.median_iterations is None
    assert row.mean_time_to_pass_s is None
    assert row.p90_s == pytest.approx(5 * 1.25)
    assert row.best_failed_score == 0.125
    assert row.cost_per_passed_run is None


def test_all_errored_lane_is_all_n_a_but_shows_its_errors() -> None:
    runs = [Run(f"e{i}", [0.0], outcome="ERROR") for i in range(3)]
    row = row_of(runs)
    assert (row.runs, row.passed, row.errors) == (0, 0, 3)
    # A script sees why each run is not counted, as the table's notes do.
    assert [r["reason"] for r in build_report([race(runs)]).to_json()["runs"]] == ["provider said 500"] * 3
    data = row.to_json()
    for key in (
        "median_iterations",
        "mean_time_to_pass_s",
        "p90_s",
        "best_failed_score",
        "fitted_r",
        "predicted_time_to_pass_s",
        "mean_model_s",
        "mean_validation_s",
        "tokens_per_run",
        "cost_per_run",
        "cost_per_passed_run",
    ):
        assert data[key] is None, key


def test_error_and_aborted_runs_are_left_out_of_every_figure() -> None:
    runs = [
        Run("ok", [0.5, 1.0], cost=0.01),
        Run("err", [0.5, 0.5, 0.5], outcome="ERROR", model_s=50.0, cost=1.0),
        Run("stop", [0.2] * 9, outcome="ABORTED", cost=1.0),
    ]
    row = row_of(runs)
    assert (row.runs, row.passed, row.errors, row.aborted) == (1, 1, 1, 1)
    assert row.p90_s == pytest.approx(2.5)
    assert row.mean_model_s == pytest.approx(1.0)  # the 50 s error turns are not in it
    assert row.best_failed_score is None
    assert row.cost_per_run == pytest.approx(0.02)


def test_cost_per_run_and_per_passed_run() -> None:
    runs = [
        Run("c1", [1.0], cost=0.1),  # 0.1
        Run("c2", [0.5, 1.0], cost=0.1),  # 0.2
        Run("c3", [0.5, 0.5, 0.5], outcome="THRASH", cost=0.1),  # 0.3
    ]
    row = row_of(runs)
    assert row.cost_per_run == pytest.approx(0.2)
    assert row.cost_per_passed_run == pytest.approx(0.3)  # 0.6 spent for 2 passes
    assert row.tokens_per_run == pytest.approx(1500 * 2)


def test_cost_per_passed_run_with_zero_passes_and_unknown_prices() -> None:
    failed = row_of([Run("f1", [0.5, 0.6], cost=0.1), Run("f2", [0.5], cost=0.1)])
    assert failed.cost_per_run == pytest.approx(0.15)
    assert failed.cost_per_passed_run is None
    # A hosted lane with no price (a sim lane's price is known: it is free).
    unknown = row_of([Run("u1", [1.0], cost=None, provider="openai"), Run("u2", [1.0], cost=0.1, provider="openai")])
    assert unknown.cost_per_run is None and unknown.cost_per_passed_run is None


def test_runs_of_one_lane_merge_across_races_and_others_stay_apart() -> None:
    first = race([Run("a-r01", [1.0]), Run("b-r01", [0.5, 1.0], name="B", model="b")], "20261122-000000-0001")
    second = race(
        [Run("a-r01", [0.5, 1.0]), Run("a2-r01", [0.5, 0.5], name="Lane A", model="other")],
        "20261122-000000-0002",
    )
    report = build_report([first, second])
    assert report.ids == ["20261122-000000-0001", "20261122-000000-0002"]
    keyed = {(r.lane, r.model): r for r in report.rows}
    assert set(keyed) == {("Lane A", "a"), ("B", "b"), ("Lane A", "other")}
    merged = keyed["Lane A", "a"]
    assert (merged.runs, merged.passed, merged.one_shot, merged.median_iterations) == (2, 2, 1, 1.5)
    data = report.to_json()
    assert [(r["race_id"], r["run_id"]) for r in data["runs"]][:2] == [
        ("20261122-000000-0001", "a-r01"),
        ("20261122-000000-0001", "b-r01"),
    ]


def test_lane_filter_matches_name_slug_or_provider_model() -> None:
    events = race([Run("a-r01", [1.0]), Run("b-r01", [1.0], name="Fast diffusion (sim)", model="fast")])
    for name in ("fast diffusion (sim)", "fast-diffusion-sim", "sim:fast"):
        report = build_report([events], lanes=[name])
        assert [r.lane for r in report.rows] == ["Fast diffusion (sim)"], name
        assert [r["run_id"] for r in report.to_json()["runs"]] == ["b-r01"]
    with pytest.raises(UnknownLanes) as caught:
        build_report([events], lanes=["sim:fast", "nope"])
    assert caught.value.unknown == ["nope"]
    assert str(caught.value) == "no lane matches nope; lanes in these races: Lane A (sim), Fast diffusion (sim)"
    # "Lane A" is a sim lane: the tables call it "Lane A (sim)", and that name selects it too.
    report = build_report([events], lanes=["lane a (SIM)"])
    assert [row.lane for row in report.rows] == ["Lane A"]


def test_a_unique_prefix_of_the_shown_name_selects_a_lane_and_a_shared_one_is_refused() -> None:
    events = race(
        [
            Run("a-r01", [1.0], name="Mini", model="mini"),
            Run("b-r01", [1.0], name="Fast diffusion", model="fast"),
            Run("c-r01", [1.0], name="Frontier", model="frontier"),
        ]
    )
    for name in ("mini", "MIN", "fa", "fast diffusion ("):
        report = build_report([events], lanes=[name])
        assert len(report.rows) == 1, name
    assert [r.lane for r in build_report([events], lanes=["fr"]).rows] == ["Frontier"]
    with pytest.raises(UnknownLanes) as caught:
        build_report([events], lanes=["f"])
    assert str(caught.value) == "f matches several lanes: Fast diffusion (sim), Frontier (sim); give more of the name"


def test_mixing_time_scales_or_turn_limits_is_warned() -> None:
    a = race([Run("a-r01", [1.0])], "20261122-000000-0001", time_scale=1.0)
    b = race([Run("a-r01", [1.0])], "20261122-000000-0002", time_scale=0.1, max_turns=5)
    warnings = build_report([a, b]).warnings
    assert any("time scales" in w and "×0.1" in w for w in warnings)
    assert "Lane A (sim): runs with different turn limits (5, 15)" in warnings  # labelled simulated
    assert build_report([a]).warnings == []


def test_json_shape_and_nulls() -> None:
    report = build_report(
        [
            race(
                [
                    Run("a-r01", [0.5, 1.0], provider="openai"),
                    Run("a-r02", [0.25, 0.5], outcome="THRASH", provider="openai"),
                ]
            )
        ]
    )
    data = report.to_json()
    assert set(data) == {"ids", "rows", "runs"}
    row = data["rows"][0]
    required = {
        "lane",
        "class",
        "runs",
        "passed",
        "errors",
        "one_shot",
        "median_iterations",
        "mean_time_to_pass_s",
        "p90_s",
        "best_failed_score",
        "fitted_r",
        "predicted_time_to_pass_s",
        "mean_model_s",
        "mean_validation_s",
        "tokens_per_run",
        "cost_per_run",
        "cost_per_passed_run",
        "simulated",
    }
    assert required <= set(row)
    assert row["runs"] == 2 and row["passed"] == 1 and row["best_failed_score"] == 0.5
    assert row["cost_per_run"] is None  # no price recorded
    assert row["target_score"] == pytest.approx(1 - 0.5 / TOTAL, abs=1e-4)
    run = data["runs"][1]
    assert {"lane", "run_id", "outcome", "turns", "wall_s", "final_score", "scores"} <= set(run)
    assert run == {
        "lane": "Lane A",
        "race_id": "20261122-000000-aaaa",
        "run_id": "a-r02",
        "outcome": "THRASH",
        "reason": "test",
        "turns": 2,
        "wall_s": 2.5,
        "time_to_pass_s": None,
        "final_score": 0.5,
        "scores": [0.25, 0.5],
    }


def test_stored_trace_gives_the_same_report_as_the_live_events(tmp_path: Path) -> None:
    events = race(
        [
            Run("a-r01", [0.3, 0.7, 1.0], model_s=0.123456789, cost=0.001),
            Run("a-r02", [0.6, 0.6, 0.6], outcome="THRASH", start=0.5),
            Run("b-r01", [1.0], name="B", model="b", start=0.25),
            Run("b-r02", [0.0], name="B", model="b", outcome="ERROR"),
        ]
    )
    writer = TraceWriter(tmp_path)
    for event in events:
        writer(event)
    assert writer.folder is not None
    stored = read_race(writer.folder)
    assert stored.warnings == []
    assert build_report([stored.events]).to_json() == build_report([events]).to_json()


def test_statistics_and_the_bench_commands_do_not_import_textual() -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import loopterm.stats.aggregate, loopterm.stats.fit, loopterm.stats.export, loopterm.stats.progress\n"
        "import loopterm.commands.bench, loopterm.commands.report\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] == 'textual')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_the_report_names_a_rescored_benchmark_as_one() -> None:
    from loopterm.stats.export import describe_sources

    bench = race([Run("a", [1.0])], race_id="20261122-000000-bbbb")
    assert describe_sources(build_report([bench])).startswith("benchmark 20261122-000000-bbbb")
    rescored = [
        bench[0].model_copy(
            update={"kind": "rescore", "race_id": "20261122-010000-cccc", "rescore_of": "20261122-000000-bbbb"}
        ),
        *bench[1:],
    ]
    assert describe_sources(build_report([rescored])).startswith("rescored benchmark 20261122-010000-cccc")
    plain = race([Run("a", [1.0])], kind="race")
    assert describe_sources(build_report([plain])).startswith("race 20261122-000000-aaaa")


def test_in_a_race_p90_and_time_to_pass_count_from_the_same_start() -> None:
    # A race's lanes are timed from the race start; a lane that started 2 s in used to get
    # a P90 counted from its own start, below its own time to pass (1.4 vs 1.5 s in the issue).
    events = race([Run("a-r01", [0.5, 1.0], start=2.0)], kind="race")
    row = build_report([events]).rows[0]
    assert row.mean_time_to_pass_s is not None and row.p90_s is not None
    assert row.p90_s >= row.mean_time_to_pass_s
    # In a bench each run waits for its slot and is timed from its own start, both figures alike.
    bench = build_report([race([Run("a-r01", [0.5, 1.0], start=2.0)], kind="bench")]).rows[0]
    assert bench.p90_s is not None and bench.mean_time_to_pass_s is not None
    assert bench.p90_s >= bench.mean_time_to_pass_s
