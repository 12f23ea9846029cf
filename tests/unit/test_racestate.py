"""The race view state: a pure fold of events (no Textual, no clock)."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest
from support.event_builders import race_started
from support.tui_script import CHECK_IDS, LANES, LanePlan, fold, lane_events, result, script_race

from loopterm.events import (
    GenerationDone,
    GenerationProgress,
    LaneDone,
    LaneStarted,
    Outcome,
    Phase,
    RaceDone,
    RaceStarted,
    TokenUsage,
    TurnStarted,
    ValidationDone,
)
from loopterm.racestate import short_message


def started(lanes=LANES[:2], race_id: str = "r1") -> RaceStarted:
    return race_started(
        lanes,
        race_id=race_id,
        task_hash="x",
        max_turns=5,
        time_scale=0.2,
        seed=1,
        started_at="2026-01-01T00:00:00Z",
        loopterm_version="0",
    )


def test_race_started_sets_race_fields_and_lanes_in_race_order() -> None:
    state = fold([started(LANES)])
    assert state.race_id == "r1"
    assert state.task_id == "quote-approval"
    assert state.max_turns == 5
    assert state.time_scale == 0.2
    assert state.lane_order == ["fast", "frontier", "mini", "weak"]
    assert state.simulated
    lane = state.lanes["frontier"]
    assert (lane.info.name, lane.info.model, lane.info.lane_class) == ("Frontier (sim)", "frontier", "H/AR")
    assert lane.phase is None and lane.started_t is None


def test_phase_follows_turn_generation_validation_and_done() -> None:
    state = fold([started()])
    lane = state.lanes["fast"]
    seen = []
    for event in lane_events(LanePlan(LANES[0], [["logic.rounding_half_up"], []], Outcome.PASS), max_turns=5):
        state.apply(event)
        seen.append((event.type, lane.phase))
    assert seen[:7] == [
        ("lane_started", None),
        ("turn_started", Phase.WAITING),
        ("generation_progress", Phase.GENERATING),
        ("generation_progress", Phase.GENERATING),
        ("generation_done", Phase.VALIDATING),
        ("validation_done", Phase.VALIDATING),
        ("turn_done", Phase.VALIDATING),
    ]
    assert seen[7] == ("turn_started", Phase.WAITING)
    assert seen[-1] == ("lane_done", Phase.DONE)
    assert lane.turn == 2


def test_tokens_and_rate_of_the_current_generation() -> None:
    state = fold([started(), LaneStarted(t=0.0, lane="fast"), TurnStarted(t=0.0, lane="fast", turn=1)])
    lane = state.lanes["fast"]
    state.apply(GenerationProgress(t=1.0, lane="fast", turn=1, chars=40, tokens=10, first_token=True))
    assert (lane.tokens, lane.tokens_per_s) == (10, None)  # one reading: no rate yet
    state.apply(GenerationProgress(t=3.0, lane="fast", turn=1, chars=840, tokens=210))
    assert lane.tokens == 210
    assert lane.tokens_per_s == 100.0  # 200 tokens in the 2 s since the first token
    state.apply(TurnStarted(t=4.0, lane="fast", turn=2))
    assert (lane.tokens, lane.tokens_per_s, lane.turn) == (0, None, 2)


def test_failing_checks_newest_first_then_suite_order() -> None:
    state = fold([started(), LaneStarted(t=0.0, lane="fast")])
    lane = state.lanes["fast"]

    def validate(turn: int, failing: list[str]) -> None:
        state.apply(
            ValidationDone(
                t=float(turn), lane="fast", turn=turn, code="x", result=result(failing), feedback=f"fb {turn}"
            )
        )

    validate(1, ["logic.rounding_half_up", "robustness.lines_count_422"])
    assert [c.id for c in lane.failing] == ["logic.rounding_half_up", "robustness.lines_count_422"]
    # Turn 2: an old failure stays, two new ones appear, one is fixed.
    validate(2, ["shape.success_json", "logic.rounding_half_up", "state.approve_twice_409"])
    assert [(c.id, c.since_turn) for c in lane.failing] == [
        ("shape.success_json", 2),
        ("state.approve_twice_409", 2),
        ("logic.rounding_half_up", 1),
    ]
    failing = lane.failing[0]
    assert failing.group == "shape"
    assert failing.short == "expected the right shape.success_json; got a wrong one"
    assert lane.passed == len(CHECK_IDS) - 3 and lane.total == len(CHECK_IDS)
    assert lane.latest_feedback == "fb 2" and lane.latest_code_turn == 2


def test_short_message_starts_at_expected_and_is_capped() -> None:
    check = result(["shape.success_json"]).checks[0]
    check.message = "sent GET /quotes; expected an object; got a list " + "x" * 400
    short = short_message(check)
    assert short.startswith("expected an object; got a list")
    assert len(short) <= 160 and short.endswith("...")
    check.message = ""
    assert short_message(check) == check.description


def test_fixed_and_broke_come_from_the_last_turn() -> None:
    plan = LanePlan(LANES[0], [["logic.rounding_half_up"], ["shape.success_json"]], Outcome.TURN_LIMIT)
    state = fold([started(), *lane_events(plan, max_turns=2)])
    lane = state.lanes["fast"]
    assert lane.fixed == ["logic.rounding_half_up"]
    assert lane.broke == ["shape.success_json"]
    assert [row.fixed for row in lane.history] == [[], ["logic.rounding_half_up"]]
    assert lane.scores == [7 / 8, 7 / 8]
    assert lane.outcome == "TURN_LIMIT"


def test_finish_time_freezes_and_places_are_kept() -> None:
    state = fold(script_race())
    fast, frontier, mini, weak = (state.lanes[k] for k in ("fast", "frontier", "mini", "weak"))
    assert fast.finished_t == 1.1 and fast.place == 1
    assert frontier.place == 2 and mini.place is None and weak.place is None
    assert [lane.run_id for lane in state.finish_order()] == ["fast", "frontier"]
    assert fast.time_to_pass_s == 1.1  # from the race start, like the timer
    assert (mini.outcome, weak.outcome) == ("TURN_LIMIT", "THRASH")
    assert state.done and not state.aborted and state.race_t_end == max(e.t for e in script_race())


def test_history_rows_carry_timings_tokens_and_cost() -> None:
    state = fold(script_race())
    rows = state.lanes["frontier"].history
    assert [r.turn for r in rows] == [1, 2, 3]
    first = rows[0]
    assert first.status == "PARTIAL"
    assert (first.passed, first.total) == (6, 8)
    assert first.ttft_s == pytest.approx(0.3) and first.model_s == pytest.approx(0.9)
    assert first.harness_s == 0.002
    assert (first.prompt_tokens, first.completion_tokens, first.tokens_estimated) == (1000, 600, True)
    assert first.cost == 0.0
    assert first.feedback is not None and first.feedback.startswith("Score: 6/8")
    assert state.lanes["frontier"].tokens_total == 3 * 1600


def test_generation_error_ends_in_error_outcome() -> None:
    plan = LanePlan(
        LANES[0], [["x"]], Outcome.ERROR, reason="401 from the provider: check OPENAI_API_KEY", error_on_turn=1
    )
    state = fold([started(), *lane_events(plan, max_turns=3)])
    lane = state.lanes["fast"]
    assert lane.outcome == "ERROR"
    assert lane.reason == "401 from the provider: check OPENAI_API_KEY"
    assert lane.generation_error == lane.reason
    assert lane.history[0].status == "ERROR" and lane.history[0].error == lane.reason


def test_no_code_answer_keeps_the_previous_candidate() -> None:
    state = fold([started(), LaneStarted(t=0, lane="fast"), TurnStarted(t=0, lane="fast", turn=1)])
    first = result(CHECK_IDS[:2])
    state.apply(ValidationDone(t=1, lane="fast", turn=1, code="first", result=first, feedback="ok"))
    state.apply(TurnStarted(t=1.5, lane="fast", turn=2))
    no_code = result([])
    no_code.checks, no_code.error, no_code.passed, no_code.score = [], "the answer contained no code", 0, 0.0
    state.apply(ValidationDone(t=2, lane="fast", turn=2, code=None, result=no_code, feedback="send code"))
    lane = state.lanes["fast"]
    assert (lane.latest_code, lane.latest_code_turn) == ("first", 1)
    assert (lane.latest_feedback, lane.latest_feedback_turn) == ("send code", 2)
    # the pane still shows the code in place: its score and failing checks, marked "no code"
    assert (lane.passed, lane.total, lane.score) == (first.passed, first.total, first.score)
    assert [c.id for c in lane.failing] == CHECK_IDS[:2] and lane.validation_error is None
    assert lane.no_code and lane.history[-1].no_code and not lane.history[0].no_code


def test_events_after_a_lane_ended_or_for_unknown_lanes_are_ignored() -> None:
    state = fold(
        [
            started(),
            LaneStarted(t=0, lane="fast"),
            LaneDone(
                t=1,
                lane="fast",
                outcome=Outcome.ABORTED,
                reason="stopped",
                turns=0,
                time_to_pass_s=None,
                best_score=0,
                final_score=0,
            ),
        ]
    )
    state.apply(GenerationDone(t=2, lane="fast", turn=1, text="", ttft_s=None, generation_s=1, usage=TokenUsage()))
    state.apply(TurnStarted(t=2, lane="nobody", turn=1))
    assert state.lanes["fast"].phase is Phase.DONE
    assert state.lanes["fast"].finished_t == 1
    assert "nobody" not in state.lanes


def test_race_started_resets_everything_for_a_restart() -> None:
    events = script_race()
    state = fold(events)
    generation = state.generation
    state.apply(started(LANES[:1], race_id="r2"))
    assert state.race_id == "r2"
    assert state.lane_order == ["fast"]
    assert state.lanes["fast"].history == [] and state.lanes["fast"].outcome is None
    assert not state.done and state.race_t_end is None
    assert state.generation == generation + 1
    # A replay restart re-sends the same race: the end state is the same again.
    again = fold(events)
    for event in events:
        state.apply(event)
    assert state == again


def test_equal_event_lists_give_equal_states() -> None:
    events = script_race()
    a = fold(events)
    b = fold(copy.deepcopy(events))
    assert a == b
    events_aborted = [*events[:-1], RaceDone(t=events[-1].t, aborted=True)]
    assert fold(events_aborted) != a


def test_state_round_trips_through_the_trace_format() -> None:
    from loopterm.events import dump_event, load_event

    events = script_race()
    assert fold([load_event(dump_event(e)) for e in events]) == fold(events)


def test_racestate_does_not_import_textual() -> None:
    code = "import sys, loopterm.racestate; print('textual' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_display_names_number_lanes_that_share_a_name() -> None:
    twin = LANES[2].model_copy(update={"run_id": "mini-2"})
    state = fold([started([LANES[0], LANES[2], twin])])
    assert state.display_name("fast") == "Fast diffusion (sim)"
    assert state.display_name("mini") == "Mini (sim) #1"
    assert state.display_name("mini-2") == "Mini (sim) #2"


def test_a_passed_lane_timer_stops_at_its_pass_not_at_its_bookkeeping() -> None:
    from loopterm.events import LaneDone

    events = script_race()
    # The lane's end record comes 0.3 s after its passing validation ended (1.1 s):
    # the pane's clock must read the pass time, the same as its "PASS in 1.1 s".
    late = [
        e.model_copy(update={"t": e.t + 0.3}) if isinstance(e, LaneDone) and e.lane == "fast" else e for e in events
    ]
    fast = fold(late).lanes["fast"]
    assert fast.time_to_pass_s == 1.1 and fast.started_t == 0.1
    assert fast.finished_t == 1.1  # race start (0) + time to pass
    # In a benchmark a run is timed from its own start (0.1 s here), so its pass is at 0.1 + 1.1 s.
    bench = [e.model_copy(update={"bench_id": "b"}) if e.type == "race_started" else e for e in late]
    assert fold(bench).lanes["fast"].finished_t == pytest.approx(1.2)
    assert fold(events).lanes["mini"].finished_t == max(e.t for e in events if getattr(e, "lane", "") == "mini")
