"""The bench summary screen: its charts as pure drawings, then the screen itself under Pilot."""

from __future__ import annotations

import pytest
from support.bench_events import BENCH_RUNS, Run, race
from support.tui_pilot import until
from support.tui_script import ScriptedSource
from textual.app import App

from loopterm.stats.aggregate import build_report
from loopterm.tui.chartgrid import YRange
from loopterm.tui.glyphs import ASCII, UNICODE
from loopterm.tui.screens.bench_summary import BenchSummaryScreen, make_bench_app
from loopterm.tui.themes import fill_app_variables
from loopterm.tui.widgets.bench_scores import BenchScoreChart, LaneSeries, floor_of, rasterise_bench
from loopterm.tui.widgets.bench_table import COLUMNS, BenchTable, table_cells
from loopterm.tui.widgets.bench_times import LaneTimes, TimeToPassStrip, strip_key, strip_rows

# rasterise_bench geometry: 5 label columns and the axis, then the plot; the last 2 rows are the x axis.
X0 = 6


def test_runs_are_letters_on_step_lines_and_the_fit_is_drawn_from_the_first_turn() -> None:
    lane = LaneSeries("A", runs=[[(1.0, 0.5), (2.0, 1.0)]], s1=0.5, r=0.5, turn_s=1.0)
    width, height = 27, 13  # plot: 21 columns (0.1 s each), 11 rows (0.1 score each)
    cells = rasterise_bench([lane], width, height, 2.0, UNICODE)
    text = ["".join(c[0] for c in row) for row in cells]
    assert text[0].startswith(" 100%│") and text[5].startswith("  50%│") and text[10].startswith("   0%│")
    assert cells[5][X0 + 10] == ("A", 0, False)  # turn 1: 50% at 1 s
    assert cells[0][X0 + 20] == ("A", 0, False)  # turn 2: 100% at 2 s
    assert cells[5][X0 + 15][0] == "─" and cells[1][X0 + 20][0] == "│"  # the step between them
    # The fitted curve: nothing before the first turn's end, 75% at 2 s.
    fit = [(x, y) for y, row in enumerate(cells) for x, c in enumerate(row) if c[2]]
    assert fit and min(x for x, _ in fit) == X0 + 11  # from 1 s on (1 s itself holds the letter)
    assert (X0 + 19, 3) in fit and cells[3][X0 + 19][0] == "•"  # 1.9 s: 1 - 0.5 * 0.5**0.9 = 0.73
    assert text[11].strip("─└ ") == "" and "2.0 s" in text[12]


def test_ascii_glyphs_and_a_floor_for_high_scores() -> None:
    lane = LaneSeries("A", runs=[[(1.0, 0.85), (2.0, 1.0)]], s1=0.85, r=0.9, turn_s=1.0)
    assert floor_of([lane]) == 0.8
    cells = rasterise_bench([lane], 27, 13, 2.0, ASCII, YRange(floor_of([lane])))
    text = ["".join(c[0] for c in row) for row in cells]
    assert text[10].startswith("  80%|") and text[5].startswith("  90%|")
    assert any(c[0] == "*" and c[2] for row in cells for c in row)
    assert not any(ch in line for line in text for ch in "│─└•")


def test_floor_and_fitted_curve_edge_cases() -> None:
    assert floor_of([]) == 0.0
    assert floor_of([LaneSeries("A", runs=[[(1.0, 1.0)]])]) == 0.9
    assert floor_of([LaneSeries("A", runs=[[(1.0, 0.05)]])]) == 0.0
    assert LaneSeries("A", s1=1.0, r=None, turn_s=1.0).fitted_at(5.0) is None  # all one-shot: no curve
    assert LaneSeries("A", s1=0.5, r=0.0, turn_s=1.0).fitted_at(5.0) == 0.5


def test_time_to_pass_strip_stacks_runs_and_marks_mean_and_p90() -> None:
    lanes = [LaneTimes("Fast", [1.0, 1.0, 4.0], mean=2.0, p90=4.0), LaneTimes("Slow one", [], None, 6.0)]
    rows = strip_rows(lanes, 40, UNICODE)
    text = ["".join(ch for ch, _ in row) for row in rows]
    assert len(rows) == 4  # two lanes, the axis, its labels
    x0 = len("Slow one") + 2  # label, a space, the axis
    plot_w = 40 - x0

    def col(t: float) -> int:
        return x0 + round(t / 6.0 * (plot_w - 1))

    assert text[0].startswith("Fast     │")
    assert text[0][col(1.0)] == "2" and text[0][col(4.0)] == "A" and text[0][col(2.0)] == "│"
    assert text[0][col(4.0) + 1] == ">"  # the P90 is that run's time: its mark goes beside it
    assert text[0].count(">") == 1
    assert "no passed run" in text[1]
    assert text[3].rstrip().endswith("6.0 s")
    assert len(strip_key(UNICODE)) <= 78 and "2-9 runs in a cell" in strip_key(UNICODE)  # the marks explained
    assert "> P90" in strip_key(UNICODE) and "| mean" in strip_key(ASCII)


def test_the_p90_mark_shows_when_runs_fill_the_cells_after_it() -> None:
    lanes = [LaneTimes("L", [1.0, 2.0, 3.0], mean=2.0, p90=3.0)]
    rows = strip_rows(lanes, 12, UNICODE)  # a plot of 9 cells: the P90 run is in the last
    track = "".join(ch for ch, _ in rows[0])[3:]
    assert track.rstrip().endswith("A") and ">" in track  # the only free cell left of it


def report_of(runs: list[Run]):
    return build_report([race(runs)])


def test_table_cells_follow_the_columns() -> None:
    cells = table_cells(report_of(BENCH_RUNS))
    assert [len(c) for c in cells] == [len(COLUMNS)] * 2
    a = dict(zip(COLUMNS, cells[0], strict=True))
    assert (a["Lane"], a["Runs Passed"], a["Median Iterations"], a["ERROR runs"]) == ("Lane A (sim)", "2/2", "2.5", "0")
    assert a["Mean Time To Pass"] == "3.1 s" and a["Predicted (fit)"] != "n/a"
    b = dict(zip(COLUMNS, cells[1], strict=True))
    assert (b["Runs Passed"], b["Best Failed Score"], b["ERROR runs"]) == ("0/1", "50%", "1")


class Host(App[None]):
    """A bare app with loopterm's colour variables, to hold the screen."""

    def __init__(self, screen: BenchSummaryScreen) -> None:
        super().__init__()
        self.bench = screen

    def get_css_variables(self) -> dict[str, str]:
        return fill_app_variables(super().get_css_variables())

    def on_mount(self) -> None:
        self.push_screen(self.bench)


@pytest.mark.anyio
async def test_screen_shows_table_charts_and_legend_from_events() -> None:
    events = race(BENCH_RUNS)
    screen = BenchSummaryScreen(lambda: events, UNICODE)
    app = Host(screen)
    async with app.run_test(size=(120, 48)) as pilot:
        await pilot.pause()
        assert app.screen is screen
        table = screen.query_one(BenchTable)
        assert table.row_count == 2 and table.cells == table_cells(build_report([events]))
        assert "B (sim): 1 ERROR run not counted (provider said 500)" in str(screen.query_one("#bench-notes").render())
        assert "finished" in str(screen.query_one("#bench-progress").render())
        chart = screen.query_one(BenchScoreChart)
        await pilot.pause()
        assert any("A" in row for row in chart.rows) and any("B" in row for row in chart.rows)
        legend = str(screen.query_one("#bench-legend").render())
        assert "A Lane A (sim)  r " in legend and "B B (sim)  r " in legend
        strip = screen.query_one(TimeToPassStrip)
        assert strip.rows[0].startswith("Lane A") and "no passed run" in strip.rows[1]
        await pilot.press("escape")
        assert app.screen is not screen


@pytest.mark.anyio
async def test_screen_follows_a_running_bench_with_an_eta() -> None:
    everything = race([Run("a-r01", [0.5, 1.0]), Run("a-r02", [0.5, 0.6, 1.0], start=0.1)])
    events = [e for e in everything if e.t <= 2.6 and e.type != "race_done"]
    now = [2.6]
    screen = BenchSummaryScreen(lambda: events, UNICODE, now=lambda: now[0])
    app = Host(screen)
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.pause()
        progress = str(screen.query_one("#bench-progress").render())
        # a-r01 passed at 2.5 s in 2 turns of 1.25 s; a-r02 has just begun its turn 3, past every finished
        # run: its turn and one more, 2.5 s (the screen's own formatter shows it "2 s").
        assert progress == "Lane A (sim) 1/2 · 1/2 runs · ETA 2 s"  # simulated lanes say so
        assert screen.query_one(BenchTable).cells[0][2] == "1/1"
        events[:] = everything
        screen.refresh_content()
        await pilot.pause()
        assert str(screen.query_one("#bench-progress").render()) == "Lane A (sim) 2/2 · finished"
        assert screen.query_one(BenchTable).cells[0][2] == "2/2"


@pytest.mark.anyio
async def test_bench_app_opens_on_the_bench_summary() -> None:
    app = make_bench_app(ScriptedSource(race(BENCH_RUNS), live=False), glyphs=UNICODE)
    async with app.run_test(size=(120, 48)) as pilot:
        assert app.race_worker is not None
        await app.race_worker.wait()
        screen = app.screen
        assert isinstance(screen, BenchSummaryScreen)
        screen.refresh_content()
        await pilot.pause()
        assert [c[0] for c in screen.query_one(BenchTable).cells] == ["Lane A (sim)", "B (sim)"]
        await pilot.press("escape")  # the main screen does not close
        assert app.screen is screen
        await pilot.press("s")  # the results table names it a bench, not a race
        await pilot.pause()
        title = str(app.screen.query_one("#summary-title").render())
        assert title.startswith("Results  bench 20261122-000000-aaaa") and "race" not in title


@pytest.mark.anyio
async def test_a_replayed_bench_opens_on_its_summary_with_the_replay_keys(tmp_path) -> None:
    from support.trace_helpers import write_trace

    from loopterm.traces.reader import read_race
    from loopterm.traces.replay import ReplaySource

    trace = read_race(write_trace(tmp_path, race(BENCH_RUNS)))
    source = ReplaySource(trace, 0.5, hold_at_end=True)  # slow enough to catch it mid-way
    app = make_bench_app(source, controls=source, glyphs=UNICODE, trace_folder=trace.folder)
    async with app.run_test(size=(120, 48)) as pilot:
        screen = app.screen
        assert isinstance(screen, BenchSummaryScreen)
        await until(pilot, lambda: screen.report is not None)
        progress = screen.query_one("#bench-progress")
        assert str(progress.render()).startswith(" REPLAY x0.5  ")
        await pilot.press("space")
        await until(pilot, lambda: " PAUSED " in str(progress.render()))
        assert source.paused
        await pilot.press("e")  # jump to the end: the table is the stored bench's
        await until(pilot, lambda: str(progress.render()).endswith("Lane A (sim) 2/2 · B (sim) 2/2 · finished"))
        assert [c[2] for c in screen.query_one(BenchTable).cells] == [
            cells[2] for cells in table_cells(build_report([trace.events]))
        ]
        await pilot.press("r")  # restart: the progress starts over from no run done
        await until(pilot, lambda: "0/2" in str(progress.render()) and "finished" not in str(progress.render()))
        await pilot.press("q")
    assert app.return_code == 0


@pytest.mark.anyio
@pytest.mark.parametrize("width", [80, 120])
async def test_the_table_drops_right_hand_columns_to_fit_instead_of_scrolling(width: int) -> None:
    events = race(BENCH_RUNS)
    screen = BenchSummaryScreen(lambda: events, UNICODE)
    app = Host(screen)
    async with app.run_test(size=(width, 40)) as pilot:
        await pilot.pause()
        table = screen.query_one(BenchTable)
        assert table.shown[:3] == ["Lane", "Class", "Runs Passed"] and table.hidden
        assert table.shown + table.hidden == list(COLUMNS)
        assert table.virtual_size.width <= table.size.width  # nothing off the right edge
        assert len(table.columns) == len(table.shown)
        row = [str(table.get_row_at(0)[i]) for i in range(len(table.shown))]
        assert row == list(table.cells[0][: len(table.shown)])
        notes = str(screen.query_one("#bench-notes").render())
        assert f"{len(table.hidden)} more columns on a wider terminal, or all with `loopterm report`" in notes
        heading = str(screen.query(".bench-heading").nodes[1].render_line(0).text).rstrip()
        # cut with an ellipsis at 80 columns, not word-wrapped onto a hidden second line
        assert heading.endswith("…" if width == 80 else "fitted curves on top)")
        await pilot.resize_terminal(220, 40)
        await pilot.pause()
        assert table.shown == list(COLUMNS) and table.hidden == []
        assert "more column" not in str(screen.query_one("#bench-notes").render())
