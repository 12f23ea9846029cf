"""The race results table names lanes the way the viewer does."""

from __future__ import annotations

from support.event_builders import lane_info

from loopterm.stats.runs import RunSummary
from loopterm.stats.table import error_lines, result_rows


def test_sim_lanes_say_so_and_lanes_sharing_a_name_are_numbered_in_race_order() -> None:
    runs = [
        RunSummary(info=lane_info("mini", "Mini (sim)", "mini"), outcome="TURN_LIMIT", turns=15),
        RunSummary(
            info=lane_info("mercury", "Mercury", "fast-diffusion"), outcome="PASS", turns=2, time_to_pass_s=6.0, place=2
        ),
        RunSummary(
            info=lane_info("mini-2", "Mini (sim)", "mini"), outcome="PASS", turns=3, time_to_pass_s=4.0, place=1
        ),
        RunSummary(
            info=lane_info("gpt", "GPT", "gpt-5.4", simulated=False),
            outcome="ERROR",
            reason="GPT: rate limited (HTTP 429)",
        ),
    ]
    names = [row[1] for row in result_rows(runs)]
    # finishers first by place; the second "Mini (sim)" of the race passed first and stays "#2"
    assert names == ["Mini (sim) #2", "Mercury (sim)", "Mini (sim) #1", "GPT"]
    assert error_lines(runs) == ["GPT: rate limited (HTTP 429)"]


def test_numbers_follow_the_raw_name_like_the_panes() -> None:
    # a lanes-file sim lane and a real lane both called "Mercury": the panes say #1 and #2
    runs = [
        RunSummary(info=lane_info("m-sim", "Mercury", "fast-diffusion"), outcome="PASS", turns=2, place=1),
        RunSummary(info=lane_info("m-real", "Mercury", "mercury-2", simulated=False), outcome="PASS", turns=1, place=2),
    ]
    assert [row[1] for row in result_rows(runs)] == ["Mercury (sim) #1", "Mercury #2"]


def test_bench_runs_have_no_places_even_where_an_older_trace_recorded_some() -> None:
    """Independent runs are not ranked: a bench recorded before the rule still reads '-' (issue 15 item 13)."""
    from support.bench_events import Run, race

    from loopterm.events import LaneDone
    from loopterm.stats.runs import summarize

    runs = [Run("a-r01", [1.0]), Run("a-r02", [0.5, 1.0]), Run("b-r01", [1.0], name="B", model="b")]

    def with_places(events: list) -> list:
        done = [e for e in events if isinstance(e, LaneDone)]
        places = {e.lane: n for n, e in enumerate(sorted(done, key=lambda e: e.t), start=1)}
        return [e.model_copy(update={"place": places[e.lane]}) if isinstance(e, LaneDone) else e for e in events]

    bench = summarize(with_places(race(runs)))
    assert [r.place for r in bench] == [None, None, None]
    assert [row[0] for row in result_rows(bench)] == ["-", "-", "-"]
    assert all(r.to_json()["place"] is None for r in bench)
    # A race's lanes keep theirs.
    raced = summarize(with_places(race(runs, kind="race")))
    assert sorted(row[0] for row in result_rows(raced)) == ["1st", "2nd", "3rd"]
