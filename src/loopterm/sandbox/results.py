"""Turn what a child reported into one ValidationResult: every check listed, always."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from loopterm.events import CheckResult, ValidationResult


@dataclass(frozen=True)
class CheckInfo:
    """A check as the suite registered it (the worker sends the list when it is ready)."""

    id: str
    group: str
    description: str


@dataclass
class JobReport:
    """Everything one validation produced, as it streamed in."""

    results: dict[str, CheckResult] = field(default_factory=dict)
    loaded: bool = False
    load_error: str | None = None
    reason: str | None = None  # why it ended early (timeout, crash, worker died)
    infrastructure: bool = False  # the worker, not the candidate, failed
    output: str = ""
    dropped: int = 0
    layers: list[str] = field(default_factory=list)


def output_text(output: str, dropped: int) -> str:
    if dropped:
        return f"{output}\n[... {dropped} more bytes of output dropped]"
    return output


def assemble(task_id: str, checks: list[CheckInfo], report: JobReport, duration_ms: float) -> ValidationResult:
    """The scored result. A candidate that did not load fails every check, with the reason."""
    error = report.load_error
    if error is None and not report.loaded and report.reason is not None:
        error = report.reason
    if error is not None:
        missing = f"not run: the candidate did not load: {error}"
    elif report.reason is not None:
        missing = f"not run: {report.reason}"
    else:
        missing = "not run: the sandbox reported no result for this check"
    listed: list[CheckResult] = []
    for info in checks:
        result = None if error is not None else report.results.get(info.id)
        if result is None:
            result = CheckResult(
                id=info.id, group=info.group, description=info.description, passed=False, message=missing
            )
        listed.append(result)
    total = len(listed)
    passed = sum(1 for c in listed if c.passed)
    status: Literal["PASS", "PARTIAL", "FAIL"]
    if total and passed == total:
        status = "PASS"
    elif passed:
        status = "PARTIAL"
    else:
        status = "FAIL"
    return ValidationResult(
        task=task_id,
        score=passed / total if total else 0.0,
        passed=passed,
        total=total,
        status=status,
        error=error,
        duration_ms=duration_ms,
        checks=listed,
        output=output_text(report.output, report.dropped),
        infrastructure_error=report.reason if report.infrastructure else None,
    )
