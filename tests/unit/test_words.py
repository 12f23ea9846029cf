"""One set of words in every view: the plain lines and the tables name an outcome alike (issue 15 item 15)."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from support.event_builders import LaneEvents, lane_info, race_started

from loopterm.events import Event, LaneDone, Outcome, RaceDone, TurnStatus
from loopterm.plain.race import PlainPrinter
from loopterm.stats.runs import summarize
from loopterm.stats.table import result_rows
from loopterm.words import fmt_estimate, fmt_seconds, outcome_text


def one_lane(outcome: Outcome, turns: int, *, simulated: bool = True, priced: bool = False) -> list[Event]:
    """A race of one lane that ends ``outcome`` after ``turns`` turns (0: before its first turn ended)."""
    info = lane_info("a", "Alpha", "a", "H/D", simulated=simulated)
    if priced:
        info = info.model_copy(update={"price_in": 1.0, "price_out": 2.0})
    track = LaneEvents("a", 0.0)
    for n in range(1, turns + 1):
        track.turn_started(n - 1.0, n)
        status = TurnStatus.PASS if outcome is Outcome.PASS and n == turns else TurnStatus.PARTIAL
        track.turn_done(
            n - 0.1,
            n,
            status,
            1.0 if status is TurnStatus.PASS else 0.5,
            2 if status is TurnStatus.PASS else 1,
            2,
            model_s=0.5,
            validation_s=0.3,
            harness_s=0.0,
        )
    end = [
        *track.events,
        LaneDone(
            t=turns + 0.5,
            lane="a",
            outcome=outcome,
            reason="Alpha: it stopped",
            turns=turns,
            time_to_pass_s=turns - 0.1 if outcome is Outcome.PASS else None,
            best_score=0.5,
            final_score=0.5,
        ),
    ]
    return [race_started([info], race_id="20261122-000000-abcd"), *end, RaceDone(t=turns + 0.6)]


def lane_line(events: list[Event]) -> str:
    """The plain line the race printer prints when the lane ends."""
    buffer = io.StringIO()
    printer = PlainPrinter(Console(file=buffer, width=200, highlight=False))
    for event in events:
        if isinstance(event, RaceDone):
            break
        printer(event)
    return buffer.getvalue().splitlines()[-1]


@pytest.mark.parametrize("outcome", list(Outcome))
@pytest.mark.parametrize("turns", [0, 2])
def test_a_lane_s_line_and_its_table_row_say_the_same_word(outcome: Outcome, turns: int) -> None:
    if outcome is Outcome.PASS and turns == 0:
        return  # a pass needs a turn
    events = one_lane(outcome, turns)
    row = result_rows(summarize(events))[0]
    word = row[3]  # the Outcome column
    line = lane_line(events)
    assert line.split("Alpha (sim) ", 1)[1].startswith(word), (line, word)  # "aborted", not "ABORTED"


def test_a_lane_stopped_before_its_first_turn_reads_aborted_after_0_turns_and_costs_0() -> None:
    events = one_lane(Outcome.ABORTED, 0)
    assert lane_line(events).endswith("Alpha (sim) aborted after 0 turns")
    row = result_rows(summarize(events))[0]
    assert (row[3], row[4], row[-1]) == ("aborted", "0", "$0")  # a sim lane costs $0 like the others
    assert result_rows(summarize(one_lane(Outcome.ABORTED, 0, simulated=False, priced=True)))[0][-1] == "$0"
    # A lane whose price nobody knows stays n/a: nothing says it was free.
    assert result_rows(summarize(one_lane(Outcome.ABORTED, 0, simulated=False)))[0][-1] == "n/a"


def test_an_error_line_leaves_out_the_lane_s_own_name_as_the_table_caption_does() -> None:
    assert outcome_text(Outcome.ERROR, 1, None, "Alpha: server error 500", "Alpha") == "ERROR: server error 500"
    assert lane_line(one_lane(Outcome.ERROR, 1)).endswith("Alpha (sim) ERROR: it stopped")


@pytest.mark.parametrize(("seconds", "text"), [(None, "n/a"), (1.72, "1.7 s"), (99.96, "100 s"), (119.4, "119 s")])
def test_a_measured_duration_reads_the_same_everywhere(seconds: float | None, text: str) -> None:
    assert fmt_seconds(seconds) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.0, "<1 s"),
        (0.4, "<1 s"),
        (10.2, "11 s"),
        (59.5, "60 s"),
        (61, "2 min"),
        (3600, "1 h 00 min"),
        (5000, "1 h 24 min"),
    ],
)
def test_an_estimate_is_coarse_and_never_reads_as_done(seconds: float, text: str) -> None:
    assert fmt_estimate(seconds) == text
