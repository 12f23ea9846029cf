"""Find the candidate file in a model's answer.

Rule: the last fenced block tagged python/py (or untagged) that holds
something wins, since models often show a snippet first and the full file
last (an empty block after it is no file). A fence may be indented, as inside
a list item; its lines lose that indent. Windows line endings are read as
plain ones. An answer with no fence counts as code only when the whole of it
compiles as Python and mentions ``app``; otherwise the answer has no code and
the turn fails with feedback saying what format we need.
"""

from __future__ import annotations

import re

# ``` or ~~~ fences, optionally indented, optional language tag, body up to the
# matching fence at the same indent (so a deeper ``` inside the code does not end it).
_FENCE = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[\w+-]*)[^\n]*\n"
    r"(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$",
    re.DOTALL | re.MULTILINE,
)
_PYTHON_TAGS = {"python", "py", "python3", ""}


def _dedent(body: str, indent: str) -> str:
    """The block's lines without the fence's own indent (a line indented less keeps its own)."""
    if not indent:
        return body
    lines = body.splitlines(keepends=True)
    return "".join(line[len(indent) :] if line.startswith(indent) else line for line in lines)


def extract_code(answer: str) -> str | None:
    """The candidate source in ``answer``, or None when there is none."""
    answer = answer.replace("\r\n", "\n")
    blocks = [
        _dedent(m.group("body"), m.group("indent"))
        for m in _FENCE.finditer(answer)
        if m.group("lang").lower() in _PYTHON_TAGS
    ]
    filled = [body for body in blocks if body.strip()]
    if filled:
        return filled[-1]
    if blocks or not answer.strip():
        return None
    # An unterminated fence (a cut-off answer): take what follows the opener.
    opener = re.search(r"^(`{3,}|~{3,})[ \t]*(python|py|python3)?[^\n]*\n", answer, re.MULTILINE)
    text = answer[opener.end() :] if opener else answer
    if "app" not in text:
        return None
    try:
        compile(text, "<answer>", "exec")
    except (SyntaxError, ValueError):
        return None
    return text
