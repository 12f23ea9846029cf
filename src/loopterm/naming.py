"""How lanes (and counts) are named to people: simulated lanes always say so.

The product rule is that a sim lane is labelled simulated wherever it
appears. The built-in profiles are named "Fast diffusion (sim)" already, but
a lanes file may name a sim lane "Mercury"; every plain line and table that
names a lane goes through :func:`display_name`, so none can forget.
"""

from __future__ import annotations

SIM_MARK = "(sim)"


def display_name(name: str, simulated: bool) -> str:
    """``name``, with " (sim)" added for a simulated lane that does not already say so."""
    if simulated and SIM_MARK not in name.casefold():
        return f"{name} {SIM_MARK}"
    return name


def plural(n: int, noun: str, many: str | None = None) -> str:
    """"1 lane", "2 lanes": a count with its noun agreeing (``many`` for "retry"/"retries")."""
    return f"{n} {noun if n == 1 else many or noun + 's'}"
