"""The viewer's pure parts: layout, pane text, the chart raster, glyphs, themes, the view clock."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.tui_script import LANES, LanePlan, fold, script_race

from loopterm.events import GenerationProgress, LaneDone, LaneStarted, Outcome, RaceStarted, TurnStarted
from loopterm.tui.chartgrid import Series, YRange, rasterise, y_floor
from loopterm.tui.clock import ViewClock
from loopterm.tui.glyphs import ASCII, UNICODE, choose_glyphs
from loopterm.tui.panetext import compact_lines, full_lines, lane_time, phase_text, plain_style
from loopterm.tui.themes import (
    APP_VARIABLES,
    DEFAULT_THEME,
    ThemeFileError,
    builtin_themes_dir,
    fill_app_variables,
    load_theme_file,
    load_themes,
)
from loopterm.tui.widgets.lane_grid import Layout, choose_layout
from loopterm.tui.widgets.race_header import fit_header, header_parts

# Layout --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lanes", "size", "expected"),
    [
        (1, (80, 22), Layout(1, 1, False)),
        (2, (80, 22), Layout(2, 1, False)),  # side by side
        (2, (60, 22), Layout(1, 2, False)),  # too narrow for two columns
        (3, (80, 22), Layout(2, 2, False)),
        (4, (80, 22), Layout(2, 2, False)),
        (4, (160, 46), Layout(2, 2, False)),
        (6, (80, 22), Layout(1, 6, True)),  # compact rows on a small screen
        (8, (80, 22), Layout(1, 8, True)),
        (8, (160, 46), Layout(2, 4, False)),  # a big screen still gets full panes
        (12, (160, 46), Layout(3, 4, False)),  # three columns when two would be too short
        (16, (160, 46), Layout(1, 16, True)),
        (4, (80, 12), Layout(1, 4, True)),  # too short for a grid
    ],
)
def test_choose_layout(lanes: int, size: tuple[int, int], expected: Layout) -> None:
    assert choose_layout(lanes, *size) == expected


# Glyphs --------------------------------------------------------------------


def test_bar_never_looks_done_before_it_is() -> None:
    assert UNICODE.bar(1.0, 10) == ("█" * 10, "")
    assert UNICODE.bar(0.0, 10) == ("", "░" * 10)
    assert UNICODE.bar(0.99, 10) == ("█" * 9, "░")
    assert UNICODE.bar(0.01, 10) == ("█", "░" * 9)
    assert ASCII.bar(0.5, 4) == ("##", "..")


def test_sparkline_is_absolute_and_only_full_scores_are_full() -> None:
    assert UNICODE.sparkline([0.0, 0.5, 0.94, 1.0], 10) == "▁▄▇█"
    assert UNICODE.sparkline([0.1, 0.2, 0.3], 2) == "▂▃"  # the latest values
    assert ASCII.sparkline([0.0, 1.0], 5) == "_#"


def test_ascii_glyphs_on_request_or_on_the_linux_console() -> None:
    assert choose_glyphs({"LOOPTERM_ASCII": "1"}) is ASCII
    assert choose_glyphs({"TERM": "linux"}) is ASCII
    assert choose_glyphs({"TERM": "xterm-256color"}) is UNICODE
    assert choose_glyphs({"TERM": "tmux-256color", "LOOPTERM_ASCII": "0"}) is UNICODE


# Pane text -------------------------------------------------------------------


def test_full_pane_of_a_finished_lane() -> None:
    state = fold(script_race())
    lines = [t.plain for t in full_lines(state.lanes["fast"], state, 99.0, 42, 9, UNICODE, plain_style)]
    assert lines[0].startswith(" H/D   SIMULATED  fast-diffusion")
    assert lines[0].endswith("1.1 s")  # frozen at the lane's finish, not the clock's 99 s
    assert lines[1] == "turn 2/4  done"
    assert lines[2].endswith("8/8 100%")
    assert lines[3] == "PASS in 1.1 s after 2 turns  1st"  # the same 1.1 s as the timer
    assert all(len(line) <= 42 for line in lines)


def test_full_pane_lists_failing_checks_newest_first_with_broken_ones_marked() -> None:
    state = fold(script_race())
    lines = [t.plain for t in full_lines(state.lanes["weak"], state, 5.0, 200, 12, UNICODE, plain_style)]
    assert lines[3] == "THRASH after 4 turns"
    assert "+2 fixed  -2 broke" in lines[4]
    checks = [line for line in lines if line[:2] in ("! ", "- ")]
    assert [c.split()[1] for c in checks] == [
        "shape.problem_422_errors",
        "logic.total_limit_below",
        "shape.success_json",
        "logic.rounding_half_up",
    ]
    assert checks[0].startswith("! ") and checks[2].startswith("- ")  # broke this turn / older failures


def test_short_pane_keeps_the_essentials_and_counts_hidden_checks() -> None:
    state = fold(script_race())
    lines = [t.plain for t in full_lines(state.lanes["weak"], state, 5.0, 60, 7, UNICODE, plain_style)]
    assert len(lines) == 7
    assert lines[1] == "turn 4/4  done"
    assert lines[3] == "THRASH after 4 turns"
    assert lines[-1] == "+3 more failing"


def test_compact_row_of_a_running_lane() -> None:
    events = [e for e in script_race(done=False) if e.t <= 0.45]
    state = fold(events)
    lines = [t.plain for t in compact_lines(state.lanes["frontier"], state, 0.8, 80, 3, UNICODE, plain_style)]
    # Padded to the longest name ("Fast diffusion (sim)") so every row's columns line up.
    assert lines[0].startswith("Frontier (sim)        H/AR   SIM   turn 1/4  gen 100 tok")
    assert lines[0].endswith("0.8 s")
    assert lines[1].startswith("░░░░░░░░░░ -/-")


def test_an_error_reason_wraps_instead_of_being_cut() -> None:
    reason = "401 from api.example.com: the key in EXAMPLE_API_KEY was refused; export a valid key"
    plan = LanePlan(LANES[0], [["x"]], Outcome.ERROR, reason=reason, error_on_turn=1)
    state = fold(script_race([plan]))
    lines = [t.plain for t in full_lines(state.lanes["fast"], state, 9.0, 36, 10, UNICODE, plain_style)]
    error = [line for line in lines if line.startswith("ERROR") or "EXAMPLE" in line or "valid key" in line]
    assert " ".join(error) == f"ERROR: {reason}"


def test_header_keeps_the_simulated_note_on_a_narrow_screen() -> None:
    state = fold(script_race())
    titles, middles, right = header_parts(state, None, 1.0)
    assert titles == [
        "loopterm  quote-approval  race 20260101-120000-abcd",
        "quote-approval  race 20260101-120000-abcd",
        "quote-approval  20260101-120000-abcd",
    ]
    assert middles == ["4 lanes · max 4 turns · simulated latencies x0.2", "simulated latencies x0.2", "sim x0.2"]
    assert right == "finished   4.9 s"  # the clock right-aligned in its fixed field
    rescored = fold([script_race()[0].model_copy(update={"kind": "rescore"})])
    # Only the usual kind, "race", may go: "rescore" says what this is.
    assert header_parts(rescored, None, 0.0)[0] == [
        "loopterm  quote-approval  rescore 20260101-120000-abcd",
        "quote-approval  rescore 20260101-120000-abcd",
    ]


def test_header_drops_the_loopterm_prefix_before_the_lane_count() -> None:
    full, plain, short = titles = [
        "loopterm  quote-approval  race 20261202-013434-618a",
        "quote-approval  race 20261202-013434-618a",
        "quote-approval  20261202-013434-618a",
    ]
    middles = ["4 lanes · max 15 turns · simulated latencies x0.2", "simulated latencies x0.2", "sim x0.2"]
    status = len("finished  70.5 s")
    # 120 columns (118 inside the padding): the whole middle fits once "loopterm" goes.
    assert fit_header(titles, middles, status, 118) == (plain, middles[0])
    assert fit_header(titles, middles, status, 130) == (full, middles[0])  # room for everything
    assert fit_header(titles, middles, status, 78) == (plain, "sim x0.2")
    assert fit_header(titles, middles, status, 67) == (short, "sim x0.2")  # "race" goes before the sim note
    # No middle fits: the title keeps what it can, the race id always comes first.
    assert fit_header(titles, middles, status, 60) == (plain, "")
    assert fit_header(titles, middles, status, 50) == (short, "")


def test_phase_words_and_live_timer() -> None:
    state = fold(
        [
            RaceStarted(
                t=0,
                race_id="r",
                task_id="t",
                task_hash="h",
                lanes=LANES[:2],
                max_turns=3,
                thrash_k=3,
                started_at="",
                loopterm_version="0",
            ),
            LaneStarted(t=0.5, lane="fast"),
            TurnStarted(t=0.5, lane="fast", turn=1),
        ]
    )
    fast, frontier = state.lanes["fast"], state.lanes["frontier"]
    assert phase_text(frontier, state, 2.0) == "queued"
    assert phase_text(fast, state, 2.0) == "waiting for first token 1.5 s"
    state.apply(GenerationProgress(t=2.5, lane="fast", turn=1, chars=10, tokens=40, first_token=True))
    state.apply(GenerationProgress(t=3.5, lane="fast", turn=1, chars=10, tokens=1240))
    assert phase_text(fast, state, 3.6) == "generating 1.2k tok 1200 tok/s"
    assert phase_text(fast, state, 3.6, width=20) == "gen 1.2k tok 1200/s"  # a narrow pane
    assert lane_time(fast, state, 3.6) == 3.6
    # a lane the race stopped did not finish its work: it says so, not "done"
    state.apply(
        LaneDone(
            t=4.0,
            lane="fast",
            outcome=Outcome.ABORTED,
            reason="race stopped during turn 1",
            turns=0,
            time_to_pass_s=None,
            best_score=0,
            final_score=0,
        )
    )
    assert phase_text(fast, state, 5.0) == "stopped"


# Chart ---------------------------------------------------------------------------


def test_chart_draws_steps_markers_and_axes() -> None:
    series = [
        Series("a", "A", [(1.0, 0.5), (3.0, 1.0)], end_t=3.0),
        Series("b", "B", [(2.0, 0.0)], end_t=None),
    ]
    grid = rasterise(series, width=26, height=8, t_max=4.0, glyphs=ASCII)
    rows = grid.rows()
    assert rows[0].startswith(" 100%|")
    assert rows[5].startswith("   0%|")
    assert rows[6].startswith("     +----")
    assert rows[7].split() == ["0.0", "s", "2.0", "s", "4.0", "s"]
    # A starts at 50% at t=1, steps up to 100% at t=3 and stops there.
    plot = [row[6:] for row in rows[:6]]
    a_rows = [y for y, row in enumerate(plot) if "A" in row]
    assert a_rows == [0, 2]  # 100% on top, 50% in the middle of six rows
    assert plot[0].index("A") > plot[2].index("A")
    assert plot[1][plot[0].index("A")] == "|"  # the step up
    assert plot[0].rstrip().endswith("A")  # A's line ends where the lane finished
    assert plot[5].rstrip().endswith("-")  # B runs on to now
    assert "B" in plot[5]


def test_chart_axis_starts_near_the_scores_when_all_are_high() -> None:
    assert y_floor([Series("a", "A", [(1, 0.74), (2, 0.95)])]) == 0.7
    assert y_floor([Series("a", "A", [(1, 0.1)])]) == 0.0
    assert y_floor([Series("a", "A", [(1, 0.99)])]) == 0.9  # the axis spans 10% at least
    grid = rasterise([Series("a", "A", [(1, 0.74)])], 30, 8, 2.0, ASCII, YRange(0.7))
    assert grid.rows()[5].startswith("  70%")


# Themes --------------------------------------------------------------------------


def test_builtin_themes_load_and_define_every_app_colour() -> None:
    themes, errors = load_themes([builtin_themes_dir()])
    assert errors == []
    names = {t.name for t in themes}
    assert {"loopterm-dark", "loopterm-light", "loopterm-contrast", "loopterm-ansi"} <= names
    assert DEFAULT_THEME in names
    for theme in themes:
        assert set(APP_VARIABLES) <= set(theme.variables), theme.name
    light = next(t for t in themes if t.name == "loopterm-light")
    assert light.dark is False


def test_missing_app_colours_are_derived_from_the_theme() -> None:
    filled = fill_app_variables(
        {"success": "#00ff00", "error": "#ff0000", "foreground": "#ffffff", "lt-pass": "#123456"}
    )
    assert filled["lt-pass"] == "#123456"
    assert filled["lt-fail"] == "#ff0000"
    assert filled["lt-fixed"] == "#00ff00"
    assert filled["lt-lane-8"] == "#ffffff"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('name = "x"\nprimary = "#ff0000"\ncolour = "red"\n', "unknown field 'colour'"),
        ('primary = "#ff0000"\n', 'needs name = "..."'),
        ('name = "x"\n', "needs a primary colour"),
        ('name = "x"\nprimary = "reddish"\n', "primary = 'reddish' is not a colour"),
        ('name = "x"\nprimary = "#f00"\ndark = "yes"\n', "dark must be true or false"),
        ('name = "x"\nprimary = "#f00"\n[variables]\nlt-pass = "greenish"\n', "variables.lt-pass"),
        ('name = "x"\nprimary = \n', "not valid TOML"),
    ],
)
def test_bad_theme_files_say_what_to_fix(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path / "mine.toml", text)
    with pytest.raises(ThemeFileError) as err:
        load_theme_file(path)
    assert str(err.value).startswith(str(path))
    assert message in str(err.value)


def test_user_themes_load_next_to_bad_ones_and_json_works(tmp_path: Path) -> None:
    write(tmp_path / "a.toml", 'name = "mine"\nprimary = "#ff8800"\ndark = false\n')
    write(tmp_path / "b.json", '{"name": "mine-json", "primary": "#00ff88", "variables": {"lt-pass": "#00ff00"}}')
    write(tmp_path / "c.toml", "not toml at all [")
    write(tmp_path / "notes.txt", "ignored")
    themes, errors = load_themes([tmp_path])
    assert sorted(t.name for t in themes) == ["mine", "mine-json"]
    assert len(errors) == 1 and "c.toml" in errors[0]


# The view clock ---------------------------------------------------------------------


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Controls:
    """The smallest ReplayControls: the clock only reads speed and paused."""

    speed = 2.0
    paused = False


def test_view_clock_runs_between_events_and_stops_at_the_end() -> None:
    mono = FakeMonotonic()
    clock = ViewClock(monotonic=mono)
    assert clock() == 0.0
    clock.start(0.0)
    mono.now += 1.5
    assert clock() == pytest.approx(1.5)
    clock.saw(3.0)  # an event from later than the clock thought: jump to it
    assert clock() == pytest.approx(3.0)
    clock.saw(2.0)  # never backwards
    assert clock() == pytest.approx(3.0)
    clock.stop(4.0)
    mono.now += 10
    assert clock() == pytest.approx(4.0)


def test_view_clock_follows_replay_speed_and_pause() -> None:
    mono = FakeMonotonic()
    controls = Controls()
    clock = ViewClock(controls, monotonic=mono)  # type: ignore[arg-type]
    clock.start(0.0)
    mono.now += 1.0
    assert clock() == pytest.approx(2.0)
    controls.paused = True
    mono.now += 5.0
    assert clock() == pytest.approx(2.0)
    controls.paused = False
    mono.now += 0.5
    assert clock() == pytest.approx(3.0)


def test_chart_legend_says_not_scored_rather_than_zero_percent() -> None:
    from loopterm.events import TurnDone
    from loopterm.tui.screens.chart import legend_lines

    events = script_race()
    first_done = next(i for i, e in enumerate(events) if isinstance(e, TurnDone))
    state = fold(events[: first_done + 1])
    lines = dict(legend_lines(state))
    scored = [lane for lane in state.lanes.values() if lane.scores]
    assert len(scored) == 1 and f"turn 1, {scored[0].score:.0%}" in lines[list(state.lanes).index(scored[0].run_id)]
    others = [line for i, line in lines.items() if i != list(state.lanes).index(scored[0].run_id)]
    assert others and all(line.endswith("turn 1, not scored yet") for line in others), others
