"""Display words and formatters: how loopterm says things to people, in one module.

Every view (the plain printers, the results and report tables, the listings,
the viewer) names lanes, counts, outcomes, places, times, tokens and money
through these functions, so no two views can say the same thing two ways
("ABORTED" in one, "aborted" in another; "1.7 s" in one, "1.70 s" in another).

Times have one formatter per purpose, each named for it:

- :func:`fmt_seconds`: a measured duration in a line or a table ("1.7 s", "119 s").
- :func:`fmt_setting_s`: a setting or a wait we were told about, as written ("0.25 s", "300 s").
- :func:`fmt_estimate`: an estimate, coarse on purpose ("<1 s", "11 s", "3 min").
- :func:`clock_stamp`: the race clock at the start of a plain line ("[   1.7s]"), fixed width.

Cheap to import (no rich, no pydantic): the commands import it at module
level, and ``loopterm --help`` must not pay for the engine.
"""

from __future__ import annotations

import math

from loopterm.outcomes import Outcome
from loopterm.sanitize import visible

NA = "n/a"
SIM_MARK = "(sim)"


def display_name(name: str, simulated: bool) -> str:
    """``name``, with " (sim)" added for a simulated lane that does not already say so.

    The product rule is that a sim lane is labelled simulated wherever it
    appears. The built-in profiles are named "Fast diffusion (sim)" already,
    but a lanes file may name a sim lane "Mercury"; every line and table that
    names a lane goes through here, so none can forget.
    """
    if simulated and SIM_MARK not in name.casefold():
        return f"{name} {SIM_MARK}"
    return name


def plural(n: int, noun: str, many: str | None = None) -> str:
    """ "1 lane", "2 lanes": a count with its noun agreeing (``many`` for "retry"/"retries")."""
    return f"{n} {noun if n == 1 else many or noun + 's'}"


def ordinal(n: int) -> str:
    """A place: 1st, 2nd, 3rd, 4th, 11th, 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


# What each half of a lane's class stands for (``H/D``: a hosted diffusion model). The
# viewer's legend and lane detail spell a class out with these.
CLASS_WORDS = {"H": "hosted", "L": "local", "AR": "autoregressive", "D": "diffusion"}


def class_words(lane_class: str) -> str:
    """``"H/D"`` -> ``"hosted, diffusion"``; "" for an empty or unknown class."""
    parts = lane_class.split("/")
    if len(parts) != 2 or not all(part in CLASS_WORDS for part in parts):
        return ""
    return ", ".join(CLASS_WORDS[part] for part in parts)


# One word per outcome, everywhere: plain lines, tables, panes, reports. The
# statuses a turn can also have (PASS, THRASH, ERROR) keep their capitals.
OUTCOME_LABELS: dict[Outcome, str] = {
    Outcome.PASS: "PASS",
    Outcome.THRASH: "THRASH",
    Outcome.TURN_LIMIT: "turn limit",
    Outcome.BUDGET: "budget",
    Outcome.ERROR: "ERROR",
    Outcome.ABORTED: "aborted",
}
RUNNING = "running"  # a run with no end yet


def outcome_label(outcome: Outcome | None) -> str:
    """The outcome's word ("turn limit", "aborted"), "running" for a run with no end yet."""
    if outcome is None:
        return RUNNING
    return OUTCOME_LABELS[Outcome(outcome)]


def outcome_text(
    outcome: Outcome | None, turns: int, time_to_pass_s: float | None = None, reason: str = "", name: str = ""
) -> str:
    """ "PASS in 6.2 s after 2 turns", "aborted after 0 turns", "ERROR: <reason>": how a run ended.

    Built on :func:`outcome_label`, so a line and a table say the same word.
    An ERROR's reason (a provider's or server's words) leaves out a leading
    copy of the lane's own ``name`` and has its control characters made visible.
    """
    label = outcome_label(outcome)
    if outcome is None:
        return label
    if outcome is Outcome.ERROR:
        return f"ERROR: {visible(without_name(reason, name))}"
    after = f"after {plural(turns, 'turn')}"
    if outcome is Outcome.PASS and time_to_pass_s is not None:
        return f"PASS in {fmt_seconds(time_to_pass_s)} {after}"
    if outcome is Outcome.BUDGET:
        return f"budget used up {after}"
    return f"{label} {after}"


def without_name(reason: str, name: str) -> str:
    """An ERROR's reason without the "<lane name>: " a provider's message starts with."""
    prefix = f"{name}: "
    return reason[len(prefix) :] if name and reason.startswith(prefix) else reason


def fmt_seconds(seconds: float | None) -> str:
    """A measured duration: tenths under 100 s ("1.7 s"), whole seconds above ("119 s"); n/a for None."""
    if seconds is None:
        return NA
    return f"{seconds:.1f} s" if round(seconds, 1) < 100 else f"{seconds:.0f} s"


def fmt_setting_s(seconds: float) -> str:
    """A setting or a wait as written (timeout_s, Retry-After): "0.25 s", "2 s", "300 s"; never 1e+03."""
    return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.2g} s"


def fmt_estimate(seconds: float) -> str:
    """An estimate (an ETA): "<1 s", whole seconds rounded up under a minute, then minutes.

    Coarse on purpose: tenths of a second would claim a precision an estimate
    does not have, and a "0.0 s" left on a run that is still going reads as done.
    """
    if seconds < 1:
        return "<1 s"
    if seconds < 60:
        return f"{math.ceil(seconds)} s"
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def clock_stamp(t: float, width: int = 6) -> str:
    """The race clock at the start of a plain line: "[   1.7s]" (``width`` digits and point, padded)."""
    return f"[{t:{width}.1f}s]"


def fmt_cost(cost: float | None) -> str:
    """Money: "$0", "$0.0123", "$1.50"; n/a when a price is unknown."""
    if cost is None:
        return NA
    if cost == 0:
        return "$0"
    return f"${cost:.4f}" if cost < 1 else f"${cost:.2f}"


def fmt_tokens(tokens: float | None, estimated: bool = False) -> str:
    """1234 -> 1.2k; a trailing ~ marks counts estimated from characters; n/a for None."""
    if tokens is None:
        return NA
    text = f"{tokens / 1000:.1f}k" if tokens >= 1000 else f"{tokens:.0f}"
    return text + ("~" if estimated else "")


def fmt_percent(value: float | None) -> str:
    """A score as a share of checks: ``87%``; n/a for None."""
    return NA if value is None else f"{value:.0%}"
