"""The charts stay readable: every lane in view, an axis zoomed to the scores, a legend that fits."""

from __future__ import annotations

import pytest
from rich.text import Text
from support.bench_events import Run, race
from support.tui_pilot import app_for
from support.tui_script import LANES, LanePlan, Outcome, lane_info, script_race

from loopterm.tui.chartgrid import Series, YRange, place_marks, rasterise, y_range
from loopterm.tui.glyphs import ASCII, UNICODE
from loopterm.tui.screens.bench_summary import make_bench_app
from loopterm.tui.screens.chart import ChartScreen
from loopterm.tui.widgets.flow_legend import FlowLegend, flow
from loopterm.tui.widgets.score_chart import ScoreChart

pytestmark = pytest.mark.anyio


def letters_in(rows: list[str]) -> set[str]:
    """The letters in the plot: right of the score labels, above the time axis."""
    return {ch for row in rows[:-2] for ch in row[6:] if ch.isalpha()}


# Letters of lanes that meet ------------------------------------------------------


def test_letters_that_meet_are_set_side_by_side() -> None:
    marks = [(10, 0, "A", 0), (10, 0, "B", 1), (10, 0, "C", 2), (10, 0, "A", 0), (12, 0, "D", 3)]
    placed = place_marks(marks, x_min=6, width=40, reach=4)
    assert [(x, letter) for x, _, letter, _ in placed] == [(10, "A"), (11, "B"), (9, "C"), (10, "A"), (12, "D")]
    # At the right edge they go left; with no free cell in reach the later one covers.
    assert [x for x, *_ in place_marks([(39, 0, "A", 0), (39, 0, "B", 1)], 6, 40, 2)] == [39, 38]
    assert [x for x, *_ in place_marks([(6, 0, "A", 0), (6, 0, "B", 1)], 6, 7, 2)] == [6, 6]


def test_eight_lanes_that_pass_together_all_show_their_letter() -> None:
    # Pairs of lanes with the same turns at the same times: one drew over the other.
    series = [
        Series(f"lane {i}", chr(ord("A") + i), [(1.0 + i % 4 * 0.01, 0.8), (2.0, 1.0)], end_t=2.0) for i in range(8)
    ]
    rows = rasterise(series, 40, 12, 2.0, UNICODE, y_range(s for x in series for _, s in x.points)).rows()
    assert letters_in(rows) == set("ABCDEFGH")
    assert sorted(ch for ch in rows[0] if ch.isalpha()) == list("ABCDEFGH")  # the passes: side by side, each once


# The score axis ---------------------------------------------------------------------


def test_the_axis_zooms_past_a_few_outliers_and_cuts() -> None:
    scores = [0.0, *[0.75 + i * 0.01 for i in range(20)], 1.0]
    assert y_range(scores) == YRange(0.7, "0%")  # one zero in 22: under a cut, labelled 0%
    assert y_range([0.1, 0.2, *[0.8] * 18]) == YRange(0.8, "<80%")  # different outliers: a range
    assert y_range([0.0, 0.1, 0.2, 0.9]) == YRange()  # a quarter are low: no zoom, no cut
    assert y_range([0.95, 1.0]) == YRange(0.9)  # all high: zoomed, nothing below
    assert y_range([0.74, 0.95]) == YRange(0.7)
    assert y_range([0.25, *[0.4 + i * 0.05 for i in range(12)]]) == YRange()  # a cut would save too little
    assert y_range([]) == YRange()


def test_a_cut_axis_draws_the_outliers_on_their_own_row() -> None:
    series = [
        Series("a", "A", [(1.0, 0.8), (2.0, 0.0), (3.0, 0.9), (4.0, 1.0)], end_t=4.0),
        *[Series(f"x{i}", "B", [(1.0, 0.85 + i * 0.01)], end_t=4.0) for i in range(8)],
    ]
    grid = rasterise(series, 40, 14, 4.0, ASCII, y_range(s for x in series for _, s in x.points))
    rows = grid.rows()
    assert rows[0].startswith(" 100%|")
    assert rows[9].startswith("  80%|")  # the floor, at the foot of the zoomed part
    assert rows[10].startswith("     :")  # the cut in the axis
    assert rows[11].startswith("   0%|") and "A" in rows[11]  # the zero, on its own row
    assert rows[0].rstrip().endswith("A")  # and the pass after it, on top
    short = rasterise(series, 40, 7, 4.0, ASCII, y_range(s for x in series for _, s in x.points)).rows()
    assert short[4].startswith("   0%|")  # too short for a cut: 0-100% again


# On screen ---------------------------------------------------------------------------


def eight_lane_race() -> list:
    infos = [lane_info(f"{info.run_id}{n}", info.name, info.model, info.lane_class) for n in (1, 2) for info in LANES]
    plans = [
        LanePlan(
            info,
            [["logic.rounding_half_up", "shape.success_json"], ["shape.success_json"], []],
            Outcome.PASS,
            turn_s=1.0,
        )
        for info in infos
    ]
    return script_race(plans, max_turns=15)


async def test_the_race_chart_shows_all_eight_lanes_at_80x24() -> None:
    app, source = app_for(eight_lane_race())
    async with app.run_test(size=(80, 24)) as pilot:
        await source.finished.wait()
        await pilot.pause()
        await pilot.press("c")
        assert isinstance(app.screen, ChartScreen)
        await pilot.pause()
        chart = app.screen.query_one(ScoreChart)
        assert letters_in(chart.rows) == set("ABCDEFGH")
        assert chart.rows[0].startswith(" 100%") and any(row.startswith("  70%") for row in chart.rows)  # zoomed


async def test_the_bench_screen_explains_its_marks_and_shows_every_p90() -> None:
    runs = [
        Run(f"{name}-r{n:02d}", [0.8, 1.0], name=name, model=name, start=0.0)
        for name in ("A", "B", "C")
        for n in range(1, 4)
    ]
    app = make_bench_app(_Source(race(runs)), glyphs=UNICODE)
    async with app.run_test(size=(80, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()
        strip_text = "".join(str(app.screen.query_one("#bench-times").render()))
        assert strip_text.count(">") == 3  # every lane's P90, beside the runs that share its time
        headings = [str(w.render()) for w in app.screen.query(".bench-heading")]
        assert any("2-9 runs in a cell" in h and "> P90" in h for h in headings)
        legend = app.screen.query_one(FlowLegend)
        shown = str(legend.render())
        assert all(f"{letter} {name} (sim)" in shown for letter, name in zip("ABC", "ABC", strict=True))
        assert "…" not in shown and "fitted curve" in shown


class _Source:
    live = False

    def __init__(self, events: list) -> None:
        self.events = events

    async def run(self, sink) -> None:
        for event in self.events:
            sink(event)


def test_a_legend_flows_onto_the_lines_it_needs() -> None:
    items = [Text("A Fast diffusion (sim)  r 0.89"), Text("B Frontier (sim)  r 1.00"), Text("C Mini (sim)  r 0.51")]
    assert flow(items, 200).plain == "A Fast diffusion (sim)  r 0.89   B Frontier (sim)  r 1.00   C Mini (sim)  r 0.51"
    assert flow(items, 78).plain.split("\n") == [
        "A Fast diffusion (sim)  r 0.89   B Frontier (sim)  r 1.00",
        "C Mini (sim)  r 0.51",
    ]
    assert flow(items, 10).plain.count("\n") == 2  # one a line, each cut where it is drawn
