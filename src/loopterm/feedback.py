"""What the validator tells the model: a compact, ordered account of one validation.

The text goes into the next prompt, so it says what matters first: a file
that did not load gets only the reason (no check ran, so listing 47 "not run"
lines would bury it). Otherwise a score line, the failing checks grouped by
group (each with its id, description and the check's own sent / expected /
got message), and one line on the passing groups. Passing check ids are never
named, so anything reading the text for ids (the simulated models do) sees
only failures. Long feedback is cut between whole entries, never mid-line,
with a note of how many failures were left out.

Bounded on every path: the whole text is at most ``max_chars`` (a load error,
each check's message and the candidate's output are cut to their share, with
a ``[cut: N more]`` marker, so a 7 MB error or 7 MB of output cannot pass
through), and a failing check is still named when its message is huge.
"""

from __future__ import annotations

from collections.abc import Iterable

from loopterm.bounds import ERROR_MAX_BYTES, clip
from loopterm.events import CheckResult, ValidationResult
from loopterm.suite import GROUPS
from loopterm.words import plural

DEFAULT_MAX_CHARS = 6000
OUTPUT_CHARS = 1500  # the candidate's own stdout/stderr shown on a load failure
MESSAGE_CHARS = 1500  # one check's message (sent / expected / got)
NOT_RUN = "not run:"
FILE_RULES = (
    "The file must define a module-level ASGI application named `app` (for example "
    "`app = FastAPI()`) and import only the standard library, fastapi, starlette and pydantic."
)


def format_feedback(result: ValidationResult, *, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """The feedback for one validation, at most ``max_chars`` long (when ``max_chars`` holds the cut marker)."""
    if result.error is not None:
        text = _load_error(result, max_chars)
    elif result.passed == result.total:
        text = _score_line(result)
    else:
        failing = [c for c in result.checks if not c.passed]
        text = _fit([_score_line(result)], _entries(failing), [_passing_line(result.checks)], max_chars)
    # The parts above each keep to their share; this only catches what has no share (hundreds of groups).
    return _clip_chars(text, max_chars)


def no_code_feedback() -> str:
    """For an answer with no code block: nothing was validated; say the format we need."""
    return "\n".join(
        [
            "Your answer contained no Python code block, so nothing was validated (score 0).",
            "Reply with the complete implementation as ONE Python file inside ONE fenced block:",
            "```python",
            "from fastapi import FastAPI",
            "",
            "app = FastAPI()",
            "# ... every endpoint of the contract ...",
            "```",
            FILE_RULES,
            "Send the whole file every time, not a diff or a fragment; text outside the block is ignored.",
        ]
    )


def _score_line(result: ValidationResult) -> str:
    failing = result.total - result.passed
    percent = round(100 * result.passed / result.total) if result.total else 0
    if failing == 0:
        return f"All {result.total} checks pass."
    return (
        f"Score: {result.passed}/{result.total} checks pass ({percent}%); {failing} fail. "
        "Fix the failures below without breaking what passes."
    )


def _load_error(result: ValidationResult, max_chars: int) -> str:
    head = f"Your file did not load, so no check ran (score 0/{result.total})."
    error_room = max(0, min(ERROR_MAX_BYTES, max_chars - len(head) - len(FILE_RULES) - 10))
    lines = [head, f"Error: {_clip_chars(result.error or '', error_room)}", FILE_RULES]
    output = result.output.strip()
    if output:
        budget = max(0, min(OUTPUT_CHARS, max_chars - sum(len(s) + 1 for s in lines) - 40))
        shown = _last_lines(output, budget)
        if shown:
            lines.insert(2, "Output while loading (last lines):")
            lines.insert(3, shown)
    return "\n".join(lines)


def _last_lines(text: str, budget: int) -> str:
    """The last whole lines of ``text`` that fit in ``budget`` characters (looking no further back than that)."""
    kept: list[str] = []
    used = 0
    # Only the end can fit: never split 7 MB of output into lines to keep 1,500 characters.
    for line in reversed(text[-(budget + 1) :].splitlines()):
        if used + len(line) + 1 > budget:
            break
        kept.append(line)
        used += len(line) + 1
    return "\n".join(reversed(kept))


def _clip_chars(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, marker included (``clip`` counts bytes, of which there are as many
    or more)."""
    return text if len(text) <= limit else clip(text, limit)


def _entries(failing: list[CheckResult]) -> list[tuple[int, str]]:
    """(checks covered, text) per entry, grouped by group in the suite's group order."""
    entries: list[tuple[int, str]] = []
    order = list(GROUPS) + sorted({c.group for c in failing} - set(GROUPS))
    for group in order:
        members = [c for c in failing if c.group == group]
        if not members:
            continue
        ran = [c for c in members if not c.message.startswith(NOT_RUN)]
        header = f"\n{group}: {len(members)} failing"
        first = True
        for check in ran:
            text = _entry(check)
            entries.append((1, f"{header}\n{text}" if first else text))
            first = False
        for message, ids in _by_message(c for c in members if c.message.startswith(NOT_RUN)):
            text = f"- not run ({_clip_chars(message[len(NOT_RUN) :].strip(), MESSAGE_CHARS)}): {', '.join(ids)}"
            entries.append((len(ids), f"{header}\n{text}" if first else text))
            first = False
    return entries


def _entry(check: CheckResult) -> str:
    message = _clip_chars((check.message or "failed").strip(), MESSAGE_CHARS)
    body = "\n".join(f"  {line}" for line in message.splitlines())
    return f"- {check.id}: {check.description}\n{body}"


def _by_message(checks: Iterable[CheckResult]) -> list[tuple[str, list[str]]]:
    grouped: dict[str, list[str]] = {}
    for check in checks:
        grouped.setdefault(check.message, []).append(check.id)
    return list(grouped.items())


def _passing_line(checks: list[CheckResult]) -> str:
    parts = []
    order = list(GROUPS) + sorted({c.group for c in checks} - set(GROUPS))
    for group in order:
        members = [c for c in checks if c.group == group]
        if members:
            passed = sum(c.passed for c in members)
            parts.append(f"{group} {passed}/{len(members)}" + (" (all)" if passed == len(members) else ""))
    return "\nPassing by group: " + ", ".join(parts) + "."


def _fit(head: list[str], entries: list[tuple[int, str]], tail: list[str], max_chars: int) -> str:
    """Whole entries in order while they fit, then a note of how many were left out."""
    total_failing = sum(n for n, _ in entries)
    note_room = len(_omitted_note(total_failing)) + 1
    used = sum(len(s) + 1 for s in head + tail) + note_room
    kept: list[str] = []
    shown = 0
    for count, text in entries:
        if used + len(text) + 1 > max_chars:
            break
        kept.append(text)
        used += len(text) + 1
        shown += count
    omitted = total_failing - shown
    note = [_omitted_note(omitted)] if omitted else []
    return "\n".join(head + kept + note + tail)


def _omitted_note(count: int) -> str:
    return (
        f"\n... and {plural(count, 'more failing check')} not shown here "
        "(fix the ones above first; the next validation will show the rest)."
    )
