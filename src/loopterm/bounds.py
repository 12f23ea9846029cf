"""Size bounds on everything that reaches the engine from a model or the sandbox.

One plain module (no imports beyond the event models) so the engine, the
feedback, the trace writer and the sandbox all name the same limits and cut
text the same way. Sizes are UTF-8 bytes; KB is 1024 bytes and MB 1024 KB.

| what                                   | limit                    | past it                                   |
|----------------------------------------|--------------------------|-------------------------------------------|
| a model's answer                       | ``ANSWER_MAX_BYTES``     | the turn is FAIL, "answer too long, ..."; |
|                                        |                          | nothing is validated or re-sent           |
| the code extracted from an answer      | ``CODE_MAX_BYTES``       | the turn is FAIL, "code too long, ..."    |
| one check's message                    | ``MESSAGE_MAX_BYTES``    | cut, with a "[cut: N more]" marker        |
| a load error / an infrastructure error | ``ERROR_MAX_BYTES``      | cut, with the marker                      |
| the candidate's captured output        | ``OUTPUT_MAX_BYTES``     | its middle is cut (start and end kept)    |
| one trace line                         | ``TRACE_LINE_MAX_BYTES`` | its big text fields are cut, with a note  |

The feedback sent back to the model has its own, smaller bound
(``loopterm.feedback.DEFAULT_MAX_CHARS``).

Memory: once ``clamp_result`` has run on a validation, what the engine keeps of
it (the result in the ValidationDone event, the feedback, the code re-sent
next turn) is at most ``checks * MESSAGE_MAX_BYTES + 2 * ERROR_MAX_BYTES +
OUTPUT_MAX_BYTES`` plus the feedback and ``CODE_MAX_BYTES``: about 350 KB for
the 47 checks of quote-approval, whatever the candidate printed or raised. The
peak while the sandbox assembles one result is bounded by the sandbox's own
caps at the source, which should use the same constants.
"""

from __future__ import annotations

from typing import Literal

from loopterm.events import ValidationResult

KB = 1024
MB = 1024 * KB

ANSWER_MAX_BYTES = 256 * KB
CODE_MAX_BYTES = 128 * KB
MESSAGE_MAX_BYTES = 4 * KB
ERROR_MAX_BYTES = 4 * KB
OUTPUT_MAX_BYTES = 16 * KB
TRACE_LINE_MAX_BYTES = 1 * MB

Keep = Literal["head", "ends"]


def utf8_size(text: str) -> int:
    """``text``'s size in UTF-8 bytes (a lone surrogate, which JSON can carry, counts as 3)."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def fmt_size(n: int) -> str:
    """900 bytes, 4 KB, 2.5 KB, 256 KB, 7.0 MB: one short, readable size."""
    if n < KB:
        return f"{n} bytes"
    if n < MB:
        value = n / KB
        return f"{value:.0f} KB" if value >= 10 or n % KB == 0 else f"{value:.1f} KB"
    return f"{n / MB:.1f} MB"


def cut_marker(cut: int) -> str:
    """The note that ends text cut at its limit: ``… [cut: 7.0 MB more]``."""
    return f"… [cut: {fmt_size(cut)} more]"


def _middle_marker(cut: int) -> str:
    return f"\n… [cut: {fmt_size(cut)} here] …\n"


def head_bytes(text: str, limit: int) -> str:
    """The longest start of ``text`` of at most ``limit`` UTF-8 bytes (never half a character)."""
    if limit <= 0:
        return ""
    start = text[:limit]  # a character is at least one byte: no more than ``limit`` characters fit
    raw = start.encode("utf-8", "surrogatepass")
    if len(raw) <= limit:
        return start
    return raw[:limit].decode("utf-8", "ignore")


def tail_bytes(text: str, limit: int) -> str:
    """The longest end of ``text`` of at most ``limit`` UTF-8 bytes (never half a character)."""
    if limit <= 0:
        return ""
    end = text[-limit:]
    raw = end.encode("utf-8", "surrogatepass")
    if len(raw) <= limit:
        return end
    return raw[len(raw) - limit :].decode("utf-8", "ignore")


def clip(text: str, limit: int, *, keep: Keep = "head") -> str:
    """``text`` when it fits in ``limit`` UTF-8 bytes, else cut to fit, marker included.

    ``keep="head"`` keeps the start and ends with ``… [cut: 7.0 MB more]``;
    ``keep="ends"`` keeps the start and the end (where a traceback or a
    "more output dropped" note is) and marks the cut in the middle. The result
    is at most ``limit`` bytes whenever ``limit`` has room for the marker.
    """
    if _fits(text, limit):
        return text
    size = utf8_size(text)
    # The marker names the bytes cut, which depend on the marker's own length: room for the longest.
    widest = max(len(fmt_size(size)), len(fmt_size(KB - 1)))
    marker = _middle_marker if keep == "ends" else cut_marker
    room = max(0, limit - len(marker(0).encode()) - widest + len(fmt_size(0)))
    if keep == "ends":
        head = head_bytes(text, room // 2)
        tail = tail_bytes(text, room - utf8_size(head))
        return head + _middle_marker(size - utf8_size(head) - utf8_size(tail)) + tail
    head = head_bytes(text, room)
    return head + cut_marker(size - utf8_size(head))


def too_long(what: str, size: int, limit: int) -> str:
    """The reason a turn refuses an answer or a file: ``answer too long, 9.8 MB (limit 256 KB)``."""
    return f"{what} too long, {fmt_size(size)} (limit {fmt_size(limit)})"


def answer_stopped(limit: int = ANSWER_MAX_BYTES) -> str:
    """The reason when a provider stopped reading a stream at the cap (the full size is unknown)."""
    return f"answer too long, over {fmt_size(limit)} (limit {fmt_size(limit)}); loopterm stopped reading it there"


REFUSALS = ("answer too long", "code too long")


def is_refusal(error: str | None) -> bool:
    """Whether a recorded result's ``error`` says the turn was refused for its size (nothing validated)."""
    return error is not None and error.startswith(REFUSALS)


def bound_answer(text: str, stopped: bool = False) -> tuple[str, str | None]:
    """An answer as the engine keeps it, and why it is refused (None when it is within the cap).

    ``stopped``: the provider stopped reading at the cap (``text`` is its
    first ``ANSWER_MAX_BYTES``). The kept text is at most the cap plus a note
    of what was cut; it is recorded, never validated nor re-sent.
    """
    if stopped:
        note = f"… [cut: reading stopped past {fmt_size(ANSWER_MAX_BYTES)}]"
        return head_bytes(text, ANSWER_MAX_BYTES) + note, answer_stopped()
    if _fits(text, ANSWER_MAX_BYTES):
        return text, None
    size = utf8_size(text)
    head = head_bytes(text, ANSWER_MAX_BYTES)
    return head + cut_marker(size - utf8_size(head)), too_long("answer", size, ANSWER_MAX_BYTES)


def code_refusal(code: str) -> str | None:
    """Why extracted code is refused for its size, or None when it is within ``CODE_MAX_BYTES``."""
    return None if _fits(code, CODE_MAX_BYTES) else too_long("code", utf8_size(code), CODE_MAX_BYTES)


def clamp_result(result: ValidationResult) -> ValidationResult:
    """``result`` with every check message, ``error``, ``infrastructure_error`` and ``output`` cut to its bound.

    Defence in depth: the sandbox caps these at the source; whatever it hands
    over, the engine keeps no more than this. Returns ``result`` itself when
    nothing needed cutting, else a copy.
    """
    checks = [
        c
        if _fits(c.message, MESSAGE_MAX_BYTES)
        else c.model_copy(update={"message": clip(c.message, MESSAGE_MAX_BYTES)})
        for c in result.checks
    ]
    update: dict[str, object] = {}
    if any(new is not old for new, old in zip(checks, result.checks, strict=True)):
        update["checks"] = checks
    for name in ("error", "infrastructure_error"):
        value = getattr(result, name)
        if value is not None and not _fits(value, ERROR_MAX_BYTES):
            update[name] = clip(value, ERROR_MAX_BYTES)
    if not _fits(result.output, OUTPUT_MAX_BYTES):
        update["output"] = clip(result.output, OUTPUT_MAX_BYTES, keep="ends")
    return result.model_copy(update=update) if update else result


def _fits(text: str, limit: int) -> bool:
    return len(text) <= limit and (text.isascii() or utf8_size(text) <= limit)
