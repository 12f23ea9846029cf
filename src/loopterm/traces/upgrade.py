"""Older traces, read as this loopterm records them.

Traces written before ``TurnDone.no_code`` existed (same event schema) scored
a turn whose answer had no code 0, with every check the code in place passed
counted as broken and, on the next turn with code, as fixed again; a lane that
ended on such a turn had a final score of 0. The judge (``loop/judge.py``)
now keeps the implementation in place through such a turn.

A lane written the old way (a ``validation_done`` with no code whose
``turn_done`` does not say ``no_code``) is read with its turns judged again
by the judge from the recorded validations: each turn's score, checks passed,
fixed, broke and ``no_code``, and the lane's final score. What the race
decided is kept as recorded: statuses, bests, the stop, times and places
(the same rules decided them then). A lane that needs nothing is returned as
it is, so a trace written by this loopterm reads back unchanged.
"""

from __future__ import annotations

from loopterm.events import Event, LaneDone, RaceStarted, TurnDone, TurnStatus, ValidationDone
from loopterm.loop.judge import Judge, Verdict

# What the judge decides that older traces recorded differently for a no-code turn.
_REJUDGED = ("score", "passed", "total", "fixed", "broke", "no_code")


def needs_upgrade(events: list[Event]) -> bool:
    """Whether one lane's events hold a no-code turn recorded the old way."""
    no_code = {e.turn for e in events if isinstance(e, ValidationDone) and e.code is None}
    return any(isinstance(e, TurnDone) and e.turn in no_code and not e.no_code for e in events)


def upgrade_lane(events: list[Event], header: RaceStarted) -> list[Event]:
    """One lane's events (file order), its old-style no-code turns judged as they are now."""
    if not needs_upgrade(events):
        return events
    checks = next((e.total for e in events if isinstance(e, TurnDone)), 0)
    judge = Judge(checks=checks, thrash_k=header.thrash_k, max_turns=header.max_turns)
    validated: ValidationDone | None = None
    final: float | None = None
    out: list[Event] = []
    for event in events:
        if isinstance(event, ValidationDone):
            validated = event
        elif isinstance(event, TurnDone):
            verdict: Verdict | None = None
            if validated is not None and validated.turn == event.turn:
                verdict = judge.judge(event.turn, validated.result, code=validated.code is not None)
            elif event.status is TurnStatus.ERROR:
                verdict = judge.error(event.turn, "")  # the model call failed: it carries the code in place
            validated = None
            if verdict is not None:  # None: its validation line was damaged; kept as recorded
                fields = verdict.turn_fields()
                event = event.model_copy(update={name: fields[name] for name in _REJUDGED})
            final = event.score
        elif isinstance(event, LaneDone) and final is not None:
            event = event.model_copy(update={"final_score": final})
        out.append(event)
    return out
