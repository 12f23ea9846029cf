from __future__ import annotations

from loopterm.events import TurnStatus, ValidationResult
from loopterm.loop.judge import ThrashTracker, classify


def test_thrash_after_k_turns_without_a_new_best() -> None:
    tracker = ThrashTracker(3)
    assert [tracker.update(s) for s in (0.5, 0.6, 0.6, 0.55, 0.6)] == [False, False, False, False, True]


def test_a_new_best_resets_the_count() -> None:
    tracker = ThrashTracker(2)
    assert [tracker.update(s) for s in (0.5, 0.4, 0.7, 0.7, 0.7)] == [False, False, False, False, True]


def test_zero_scores_from_the_start_thrash() -> None:
    tracker = ThrashTracker(3)
    assert [tracker.update(0.0) for _ in range(4)] == [False, False, False, True]


def test_k_zero_never_thrashes() -> None:
    tracker = ThrashTracker(0)
    assert not any(tracker.update(0.1) for _ in range(20))


def _result(passed: int, total: int = 4) -> ValidationResult:
    status = "PASS" if passed == total else "PARTIAL" if passed else "FAIL"
    return ValidationResult(task="t", score=passed / total, passed=passed, total=total, status=status, duration_ms=1)


def test_classify() -> None:
    assert classify(_result(4), thrashing=True) is TurnStatus.PASS
    assert classify(_result(2), thrashing=False) is TurnStatus.PARTIAL
    assert classify(_result(0), thrashing=False) is TurnStatus.FAIL
    assert classify(_result(2), thrashing=True) is TurnStatus.THRASH
