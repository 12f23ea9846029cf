"""The judge alone: verdicts from validation results, with no sandbox, no clock and no events."""

from __future__ import annotations

from collections.abc import Sequence

from support.event_builders import lane_info, race_started, validation_result

from loopterm.events import CheckResult, LaneDone, Outcome, TurnStatus, ValidationResult
from loopterm.loop.judge import Judge, Places

IDS = ("a", "b", "c", "d")


def scored(passing: Sequence[str]) -> ValidationResult:
    checks = [CheckResult(id=i, group="logic", description=i, passed=i in passing) for i in IDS]
    return validation_result("t", checks, duration_ms=1.0)


def nothing(reason: str = "the answer contained no Python code block") -> ValidationResult:
    """What the loop records for an answer it did not validate."""
    return ValidationResult(task="t", score=0.0, passed=0, total=len(IDS), status="FAIL", error=reason, duration_ms=0.0)


def judge(thrash_k: int = 3, max_turns: int = 15) -> Judge:
    return Judge(checks=len(IDS), thrash_k=thrash_k, max_turns=max_turns)


def test_a_no_code_answer_keeps_the_implementation_in_place() -> None:
    j = judge()
    first = j.judge(1, scored("abc"), code=True)
    blank = j.judge(2, nothing(), code=False)
    assert (first.status, first.passed, first.no_code) == (TurnStatus.PARTIAL, 3, False)
    # the answer failed (FAIL), but the code in place still scores 3/4 and nothing broke
    assert (blank.status, blank.score, blank.passed, blank.total) == (TurnStatus.FAIL, 0.75, 3, 4)
    assert (blank.fixed, blank.broke, blank.no_code, blank.stop) == ([], [], True, None)
    # the next code is compared with the code in place, not with the answer that had none
    after = j.judge(3, scored("abd"), code=True)
    assert (after.fixed, after.broke) == (["d"], ["c"])
    assert j.score == 0.75 and j.best == 0.75


def test_a_refused_answer_is_judged_as_one_with_no_code() -> None:
    j = judge()
    j.judge(1, scored("ab"), code=True)
    refused = j.judge(2, nothing("answer too long, 9.8 MB (limit 256 KB)"), code=False)
    assert (refused.status, refused.passed, refused.broke, refused.no_code) == (TurnStatus.FAIL, 2, [], True)


def test_the_first_implementation_fixes_and_breaks_nothing() -> None:
    j = judge()
    blank = j.judge(1, nothing(), code=False)
    assert (blank.status, blank.score, blank.passed, blank.total, blank.no_code) == (TurnStatus.FAIL, 0, 0, 4, True)
    first = j.judge(2, scored("ab"), code=True)
    assert (first.fixed, first.broke) == ([], [])


def test_no_code_turns_count_toward_thrash_and_the_stop_says_why() -> None:
    j = judge(thrash_k=2)
    j.judge(1, scored("abc"), code=True)
    assert j.judge(2, nothing(), code=False).status is TurnStatus.FAIL
    last = j.judge(3, nothing(), code=False)
    assert (last.status, last.passed, last.stop) == (TurnStatus.THRASH, 3, Outcome.THRASH)
    assert last.reason == "no new best score in 2 turns (best 75%)"


def test_pass_and_the_turn_limit_stop_the_lane() -> None:
    j = judge(max_turns=2)
    assert j.judge(1, scored("a"), code=True).stop is None
    last = j.judge(2, scored("ab"), code=True)
    assert (last.status, last.stop, last.reason) == (TurnStatus.PARTIAL, Outcome.TURN_LIMIT, "turn limit of 2 reached")
    done = judge().judge(1, scored(IDS), code=True)
    assert (done.status, done.stop, done.reason) == (TurnStatus.PASS, Outcome.PASS, "passed 4/4 on turn 1")


def test_an_error_turn_carries_the_implementation_in_place() -> None:
    j = judge()
    j.judge(1, scored("ab"), code=True)
    j.judge(2, nothing(), code=False)
    error = j.error(3, "server error 500 after 2 retries")
    assert (error.status, error.score, error.passed, error.total) == (TurnStatus.ERROR, 0.5, 2, 4)
    assert (error.stop, error.reason, error.fixed, error.broke) == (
        Outcome.ERROR,
        "server error 500 after 2 retries",
        [],
        [],
    )


def test_a_sandbox_failure_is_an_error_turn_not_the_models_fail() -> None:
    j = judge()
    j.judge(1, scored("ab"), code=True)
    crashed = nothing("the sandbox's check runner died (exit code -9)").model_copy(
        update={"infrastructure_error": "the sandbox's check runner died (exit code -9)"}
    )
    verdict = j.judge(2, crashed, code=True)
    assert (verdict.status, verdict.passed, verdict.stop) == (TurnStatus.ERROR, 2, Outcome.ERROR)
    assert verdict.reason == "the sandbox's check runner died (exit code -9)"
    assert j.in_place is not None and j.in_place.turn == 1  # the crash replaced nothing


def test_places_go_to_passing_lanes_in_finishing_order_and_never_in_a_bench() -> None:
    def ends(outcomes: Sequence[Outcome]) -> list[LaneDone]:
        return [
            LaneDone(t=n, lane=f"l{n}", outcome=o, reason="", turns=1, time_to_pass_s=None, best_score=0, final_score=0)
            for n, o in enumerate(outcomes)
        ]

    race = race_started([lane_info("x", "X", "m")], race_id="r")
    lanes = ends([Outcome.THRASH, Outcome.PASS, Outcome.ERROR, Outcome.PASS])
    place = Places.of(race)
    for done in lanes:
        place(done)
    assert [d.place for d in lanes] == [None, 1, None, 2]
    for header in (
        race.model_copy(update={"kind": "bench", "bench_id": "r"}),
        race.model_copy(update={"kind": "rescore", "bench_id": "r"}),
    ):  # a bench, and its rescore
        place = Places.of(header)
        for done in lanes:
            place(done)
        assert [d.place for d in lanes] == [None] * 4
