"""Find the candidate file in a model's answer.

Rule: the last fenced block tagged python/py (or untagged) wins, since models
often show a snippet first and the full file last. An answer with no fence
counts as code only when the whole of it compiles as Python and mentions
``app``; otherwise the answer has no code and the turn fails with feedback
saying what format we need.
"""

from __future__ import annotations

import re

# ``` or ~~~ fences, optional language tag, body up to the matching fence.
_FENCE = re.compile(
    r"^(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[\w+-]*)[^\n]*\n(?P<body>.*?)^(?P=fence)[ \t]*$",
    re.DOTALL | re.MULTILINE,
)
_PYTHON_TAGS = {"python", "py", "python3", ""}


def extract_code(answer: str) -> str | None:
    """The candidate source in ``answer``, or None when there is none."""
    blocks = [m for m in _FENCE.finditer(answer) if m.group("lang").lower() in _PYTHON_TAGS]
    if blocks:
        body = blocks[-1].group("body")
        return body if body.strip() else None
    if not answer.strip():
        return None
    # An unterminated fence (a cut-off answer): take what follows the opener.
    opener = re.search(r"^(`{3,}|~{3,})[ \t]*(python|py|python3)?[^\n]*\n", answer, re.MULTILINE)
    text = answer[opener.end():] if opener else answer
    if "app" not in text:
        return None
    try:
        compile(text, "<answer>", "exec")
    except (SyntaxError, ValueError):
        return None
    return text
