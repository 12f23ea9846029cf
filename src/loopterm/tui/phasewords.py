"""What a lane is doing, worded at one of a few levels, from long to short.

A level is one form for every phase: at level 2 a waiting lane reads
``waiting 1.2 s`` and a generating one ``gen 1.2k tok 300/s``, never
``generating`` beside ``gen``. The level is chosen from the room a pane has,
as if every number were at its widest (``level_for``), so a pane keeps its
wording through a turn however its numbers grow, and the panes of one screen,
fitted to the narrowest of them, all use the same one.
"""

from __future__ import annotations

from loopterm.events import Phase
from loopterm.words import fmt_tokens

LEVELS = 6
# The widest numbers the levels are fitted for: 99.9 s waiting for a first token, 9.9 s
# validating (the suite runs in about a second), 99.9k tokens (an answer is capped at 256 KB),
# 9999 tok/s. A wider one (a model loading for minutes, a hung check, a sim at a tiny
# --time-scale) makes that pane alone fall back to a shorter wording rather than be cut.
WIDEST_WAIT = "99.9 s"
WIDEST_VALIDATION = "9.9 s"
WIDEST_TOKENS = fmt_tokens(99_900)
WIDEST_RATE = "9999"


def wordings(phase: Phase, tokens: str, rate: str | None, since: str) -> list[str]:
    """``phase`` at each level, longest first (``LEVELS`` of them); ``rate``: None before it is known."""
    if phase is Phase.WAITING:
        return [
            f"waiting for first token {since}",
            f"waiting for 1st token {since}",
            f"waiting {since}",
            f"waiting {since}",
            "waiting",
            "wait",
        ]
    if phase is Phase.GENERATING:
        if rate is None:
            return [
                f"generating {tokens} tok",
                f"generating {tokens} tok",
                f"gen {tokens} tok",
                f"gen {tokens} tok",
                f"gen {tokens}",
                "gen",
            ]
        return [
            f"generating {tokens} tok {rate} tok/s",
            f"generating {tokens} tok {rate}/s",
            f"gen {tokens} tok {rate}/s",
            f"gen {tokens} tok",
            f"gen {tokens}",
            "gen",
        ]
    return [f"validating {since}"] * 4 + ["validating", "valid."]


_WIDEST = [
    wordings(Phase.WAITING, "", None, WIDEST_WAIT),
    wordings(Phase.GENERATING, WIDEST_TOKENS, WIDEST_RATE, ""),
    wordings(Phase.VALIDATING, "", None, WIDEST_VALIDATION),
]


def level_for(room: int) -> int:
    """The longest level at which every phase, at its widest numbers, fits ``room`` cells."""
    for level in range(LEVELS):
        if all(len(forms[level]) <= room for forms in _WIDEST):
            return level
    return LEVELS - 1
