"""Fitting the viewer's words to small and large panes: names, phases, checks, errors, rows, tables."""

from __future__ import annotations

import io

from rich.console import Console
from support.tui_script import CHECK_IDS, LANES, LanePlan, Outcome, fold, lane_info, script_race

from loopterm.stats.runs import summarize
from loopterm.stats.table import race_table
from loopterm.tui.glyphs import UNICODE
from loopterm.tui.panetext import compact_lines, full_lines, plain_style, short_name
from loopterm.tui.widgets.lane_grid import compact_heights

LONG_MESSAGE = (
    "sent POST /quotes with two lines and an order discount of 5%; expected status "
    "AUTO_APPROVED and approval_reasons [] because the total after the discount is 997.50; "
    "got PENDING_APPROVAL with TOTAL_OVER_LIMIT"
)


def printed(renderable: object, width: int) -> str:
    console = Console(width=width, file=io.StringIO(), color_system=None)
    console.print(renderable)
    return console.file.getvalue()  # type: ignore[attr-defined]


def plain(lines: list) -> list[str]:
    return [line.plain for line in lines]


def eight_lanes_running() -> tuple:
    """Eight lanes, two of each simulated profile (so numbered "#1", "#2"), mid first generation."""
    infos = [lane_info(f"{info.run_id}{n}", info.name, info.model, info.lane_class) for n in (1, 2) for info in LANES]
    plans = [LanePlan(info, [["logic.rounding_half_up"], []], Outcome.PASS, turn_s=1.0) for info in infos]
    events = [e for e in script_race(plans, max_turns=15, done=False) if e.t <= 0.55]
    return fold(events), infos


# The results table left in the scrollback ---------------------------------------


def test_results_table_drops_columns_rather_than_lane_names_when_narrow() -> None:
    runs = summarize(script_race())
    wide = printed(race_table(runs, "Results"), 120)
    assert "Class" in wide and "Cost" in wide and "Tokens" in wide
    for width in (60, 45):
        narrow = printed(race_table(runs, "Results"), width)
        assert "…" not in narrow
        for name in ("Fast diffusion (sim)", "Frontier (sim)", "Mini (sim)", "Weak local (sim)"):
            assert name in narrow, (width, narrow)
        assert "Outcome" in narrow and "turn limit" in narrow and "1st" in narrow
        assert "Class" not in narrow and "Cost" not in narrow  # the first to go
        assert all(len(line) <= width for line in narrow.splitlines())


def test_results_caption_names_an_error_lane_once() -> None:
    reason = "Fast diffusion (sim): cannot reach http://127.0.0.1:11434: is the server running?"
    plan = LanePlan(LANES[0], [["x"]], Outcome.ERROR, reason=reason, error_on_turn=1)
    text = printed(race_table(summarize(script_race([plan])), "Results"), 200)
    assert "Fast diffusion (sim): cannot reach http://127.0.0.1:11434" in text
    assert text.count("Fast diffusion (sim):") == 1


# Compact rows ---------------------------------------------------------------------


def test_compact_rows_at_60_columns_keep_the_phase_readable() -> None:
    state, infos = eight_lanes_running()
    rows = {
        info.run_id: plain(compact_lines(state.lanes[info.run_id], state, 0.55, 60, 2, UNICODE, plain_style))
        for info in infos
    }
    mini = rows["mini2"][0]
    assert "gen 500 tok" in mini  # not "g…"
    assert "Mini (sim) #2" in mini  # the number that tells the two apart survives
    assert all("gen 500 tok" in row[0] for row in rows.values())
    assert "… (sim) #1" in rows["weak1"][0]  # a long name is cut in its stem, not its suffix
    assert all(len(row[0]) <= 60 for row in rows.values())
    starts = {row[0].index("turn 1/15") for row in rows.values()}
    assert len(starts) == 1  # the columns still line up


def test_compact_rows_of_four_lanes_at_60_columns() -> None:
    events = [e for e in script_race(done=False) if e.t <= 0.45]
    state = fold(events)
    first = plain(compact_lines(state.lanes["frontier"], state, 0.8, 60, 2, UNICODE, plain_style))[0]
    assert "generating 100 tok" in first or "gen 100 tok" in first
    assert first.startswith("Frontier (sim)") and first.endswith("0.8 s")


def test_short_names_keep_what_tells_lanes_apart() -> None:
    assert short_name("Fast diffusion (sim) #1", 15) == "Fast… (sim) #1"
    assert short_name("qwen2.5-coder (ollama)", 15) == "qwen2… (ollama)"
    assert short_name("gpt-5.4", 7) == "gpt-5.4"
    assert short_name("a-very-long-name", 8) == "a-very-…"


def test_a_one_row_check_area_shows_a_check_and_the_count() -> None:
    state = fold(script_race())
    weak = state.lanes["weak"]  # four failing checks
    lines = plain(compact_lines(weak, state, 5.0, 100, 3, UNICODE, plain_style))
    assert lines[2].startswith("! shape.problem_422_errors")
    assert lines[2].endswith("+3 more")
    two = plain(compact_lines(weak, state, 5.0, 100, 4, UNICODE, plain_style))
    assert two[2].startswith("! shape.problem_422_errors") and two[3] == "+3 more failing"


def test_compact_rows_share_out_the_spare_rows() -> None:
    assert compact_heights(8, 22) == [3] * 6 + [2] * 2  # 22 // 8 alone left 6 rows blank
    assert sum(compact_heights(8, 22)) == 22
    assert compact_heights(4, 18) == [5, 5, 4, 4]
    assert compact_heights(8, 100) == [8] * 8  # rows stay at most 8 high on a big screen
    assert compact_heights(8, 10) == [2] * 8  # too short: every lane still gets its two lines


# Full panes ---------------------------------------------------------------------------


def test_the_short_sim_badge_when_the_long_one_would_cut_the_model() -> None:
    state = fold(script_race())
    narrow = plain(full_lines(state.lanes["fast"], state, 9.0, 36, 9, UNICODE, plain_style))[0]
    assert " SIM  fast-diffusion " in narrow and "…" not in narrow
    wide = plain(full_lines(state.lanes["fast"], state, 9.0, 60, 9, UNICODE, plain_style))[0]
    assert " SIMULATED  fast-diffusion " in wide


def test_an_error_reason_uses_the_free_rows_and_ends_with_an_ellipsis() -> None:
    reason = (
        "Fast diffusion (sim): the server at http://127.0.0.1:11434 answered 404: check that the model "
        "is pulled (ollama pull qwen2.5-coder) and that the name is right; then run the race again"
    )
    plan = LanePlan(LANES[0], [["x"]], Outcome.ERROR, reason=reason, error_on_turn=1)
    state = fold(script_race([plan]))
    lane = state.lanes["fast"]
    tall = plain(full_lines(lane, state, 9.0, 36, 12, UNICODE, plain_style))
    error = [line for line in tall[3:] if not line.startswith("▁")]
    assert error[0].startswith("ERROR: the server at")  # the border already names the lane
    assert " ".join(error).endswith("then run the race again")
    short = plain(full_lines(lane, state, 9.0, 36, 6, UNICODE, plain_style))
    assert len(short) == 6 and short[-1].endswith("…")  # no blank rows, and the cut is marked
    assert all(len(line) <= 36 for line in short)


def test_a_check_message_wraps_over_spare_rows() -> None:
    failing = ["logic.total_limit_below"]
    plan = LanePlan(LANES[0], [failing, failing], Outcome.TURN_LIMIT)
    events = script_race([plan], max_turns=2)
    for event in events:  # a long message, as real checks have
        result = getattr(event, "result", None)
        for check in result.checks if result is not None else []:
            if not check.passed:
                check.message = LONG_MESSAGE
    state = fold(events)
    lines = plain(full_lines(state.lanes["fast"], state, 9.0, 80, 20, UNICODE, plain_style))
    at = next(i for i, line in enumerate(lines) if line.startswith("- logic.total_limit_below"))
    assert "expected status" in lines[at]  # the message starts beside the id...
    more = [line for line in lines[at + 1 :] if line.startswith("    ")]
    assert len(more) >= 2  # ...and goes on over the free rows
    message = " ".join([lines[at].split("  ", 1)[1], *(line.strip() for line in more)])
    assert len(message) > 80 and message in LONG_MESSAGE
    assert CHECK_IDS[0] not in " ".join(lines)
    cramped = plain(full_lines(state.lanes["fast"], state, 9.0, 80, 6, UNICODE, plain_style))
    assert cramped[-1].startswith("- logic.total_limit_below") and cramped[-1].endswith("…")


def test_a_compact_error_row_wraps_its_reason_below() -> None:
    reason = "the server at http://127.0.0.1:11434 answered 404: check that the model is pulled and named right"
    plans = [
        LanePlan(LANES[0], [["x"]], Outcome.ERROR, reason=reason, error_on_turn=1),
        LanePlan(LANES[1], [["x"], []], Outcome.PASS),
    ]
    state = fold(script_race(plans))
    lines = plain(compact_lines(state.lanes["fast"], state, 9.0, 60, 3, UNICODE, plain_style))
    assert lines[1].endswith("  ERROR")
    assert lines[2].startswith("ERROR: the server at") and lines[2].endswith("…")
    roomy = plain(compact_lines(state.lanes["fast"], state, 9.0, 60, 4, UNICODE, plain_style))
    assert " ".join(roomy[2:]) == f"ERROR: {reason}"
    wide = plain(compact_lines(state.lanes["fast"], state, 9.0, 200, 3, UNICODE, plain_style))
    assert wide[1].endswith(f"ERROR: {reason}")  # it fits beside the score: nothing moves
