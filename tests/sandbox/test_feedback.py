"""The feedback text a model gets after a validation."""

from __future__ import annotations

import pytest

from loopterm.events import CheckResult, ValidationResult
from loopterm.faults import apply_faults
from loopterm.feedback import format_feedback, no_code_feedback
from loopterm.providers.sim import _failing_ids
from loopterm.sandbox.runner import run_suite
from loopterm.tasks import find_task


def check(id: str, passed: bool, message: str = "") -> CheckResult:
    group = id.split(".")[0]
    return CheckResult(id=id, group=group, description=f"what {id} checks", passed=passed, message=message)


def result(checks: list[CheckResult], error: str | None = None, output: str = "") -> ValidationResult:
    passed = sum(c.passed for c in checks)
    total = len(checks)
    status = "PASS" if passed == total else "PARTIAL" if passed else "FAIL"
    return ValidationResult(
        task="t",
        score=passed / total if total else 0.0,
        passed=passed,
        total=total,
        status=status,
        error=error,
        duration_ms=1.0,
        checks=checks,
        output=output,
    )


MIXED = result(
    [
        check("robustness.r1", False, "sent R1; expected 404; got 200"),
        check("logic.l1", True),
        check("shape.s1", False, "sent S1; expected 201; got 200"),
        check("logic.l2", False, "sent L2; expected 0.13; got 0.12"),
        check("shape.s2", True),
        check("logic.l3", False, "sent L3; expected AUTO_APPROVED\nsecond line of detail"),
    ]
)


def test_all_passing_is_one_line() -> None:
    text = format_feedback(result([check("logic.a", True), check("shape.b", True)]))
    assert text == "All 2 checks pass."


def test_score_line_comes_first() -> None:
    first = format_feedback(MIXED).splitlines()[0]
    assert first.startswith("Score: 2/6 checks pass (33%); 4 fail.")


def test_failures_are_grouped_in_group_order_with_id_description_and_message() -> None:
    text = format_feedback(MIXED)
    order = [
        text.index(s)
        for s in (
            "logic: 2 failing",
            "- logic.l2",
            "- logic.l3",
            "shape: 1 failing",
            "- shape.s1",
            "robustness: 1 failing",
            "- robustness.r1",
        )
    ]
    assert order == sorted(order)
    assert "- logic.l2: what logic.l2 checks\n  sent L2; expected 0.13; got 0.12" in text
    # A message over several lines stays indented under its check.
    assert "  sent L3; expected AUTO_APPROVED\n  second line of detail" in text


def test_passing_checks_are_summarised_by_group_never_named() -> None:
    text = format_feedback(MIXED)
    assert text.splitlines()[-1] == "Passing by group: logic 1/3, shape 1/2, robustness 0/1."
    assert "logic.l1" not in text and "shape.s2" not in text


def test_simulated_models_read_exactly_the_failing_ids() -> None:
    known = {c.id for c in MIXED.checks}
    assert _failing_ids(format_feedback(MIXED), known) == {c.id for c in MIXED.failing}


def many_failures(n: int) -> ValidationResult:
    return result(
        [check(f"logic.c{i:02d}", False, f"sent {i}; expected x; got y " + "z" * 150) for i in range(n)]
        + [check("shape.ok", True)]
    )


def test_long_feedback_is_capped_between_whole_entries() -> None:
    full = format_feedback(many_failures(40), max_chars=100_000)
    capped = format_feedback(many_failures(40), max_chars=2000)
    assert len(capped) <= 2000
    full_lines = set(full.splitlines())
    shown = [line for line in capped.splitlines() if line.startswith("- logic.")]
    assert shown and all(line in full_lines for line in shown)
    # Every shown check keeps its message line: nothing is cut mid-entry.
    for line in capped.splitlines():
        if line.startswith("  "):
            assert line in full_lines
    assert f"... and {40 - len(shown)} more failing checks not shown here" in capped
    assert capped.splitlines()[-1].startswith("Passing by group:")


def test_no_cap_note_when_everything_fits() -> None:
    assert "not shown" not in format_feedback(MIXED)


def test_load_error_comes_first_and_alone() -> None:
    failed = [check(f"logic.c{i}", False, "not run: the candidate did not load: boom") for i in range(5)]
    text = format_feedback(result(failed, error="syntax error at line 3: invalid syntax"))
    assert text.splitlines()[0] == "Your file did not load, so no check ran (score 0/5)."
    assert "Error: syntax error at line 3: invalid syntax" in text
    assert "module-level ASGI application named `app`" in text
    assert "logic.c0" not in text


def test_load_error_shows_the_last_lines_of_output_within_the_cap() -> None:
    output = "\n".join(f"line {i}" for i in range(2000))
    text = format_feedback(result([check("logic.a", False)], error="raised", output=output), max_chars=1000)
    assert len(text) <= 1000
    assert text.splitlines()[-2] == "line 1999"  # last output line, then the file rules


def test_checks_that_did_not_run_share_one_line() -> None:
    checks = [
        check("logic.a", False, "sent A; expected 1; got 2"),
        check("logic.b", False, "not run: the check timed out"),
        check("logic.c", False, "not run: the check timed out"),
    ]
    text = format_feedback(result(checks))
    assert "- not run (the check timed out): logic.b, logic.c" in text
    assert "- logic.a: what logic.a checks" in text


def test_no_code_feedback_names_the_expected_format() -> None:
    text = no_code_feedback()
    assert "no Python code block" in text
    assert "```python" in text and "app = FastAPI()" in text
    assert "ONE fenced block" in text


@pytest.mark.anyio
async def test_real_failures_from_the_suite_read_well() -> None:
    task = find_task("quote-approval")
    faults = [f for f in task.faults if f.id in {"total_limit_inclusive", "create_200"}]
    checks = await run_suite(task.suite, apply_faults(task.reference_source, faults))
    text = format_feedback(result(checks))
    assert "Score: 45/47 checks pass (96%); 2 fail." in text
    assert "- logic.total_limit_at: " in text and "- shape.create_201_json: " in text
    assert 'got status "PENDING_APPROVAL"' in text
    assert _failing_ids(text, set(task.suite.by_id())) == {"logic.total_limit_at", "shape.create_201_json"}
