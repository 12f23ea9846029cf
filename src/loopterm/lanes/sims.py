"""The simulated models' profiles: how fast and how competent each pretends to be.

Data only, beside the lanes they name (``sim:<profile>``); the behaviour is
``loopterm.providers.sim``. The numbers are illustrative, shaped after
published figures; they are not measurements of any real model.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from loopterm.lanes.model import Lane


@dataclass(frozen=True)
class SimProfile:
    """A simulated model. Times are seconds at time scale 1."""

    name: str
    label: str
    lane_class: str
    ttft_s: float  # time to first token
    tokens_per_s: float
    one_shot: float  # chance that turn 1 is the clean reference
    first_faults: tuple[int, int]  # how many faults a non-one-shot first try has (min, max)
    fix_rate: float  # chance to fix each fault the feedback names, per turn
    regression: float  # chance per turn to introduce one new fault
    floor: int = 0  # never fewer faults than this: a model that cannot finish
    no_code: float = 0.0  # chance an answer has no code block at all
    jitter: float = 0.15  # relative spread of latencies

    def lane(self) -> Lane:
        from loopterm.lanes.model import Lane, Price  # pydantic: only when a lane is built, not for --help

        return Lane(
            name=f"{self.label} (sim)",
            provider="sim",
            model=self.name,
            lane_class=self.lane_class,
            price=Price(input=0, output=0),
            max_retries=0,
        )


PROFILES: dict[str, SimProfile] = {
    p.name: p
    for p in (
        SimProfile(
            name="fast-diffusion",
            label="Fast diffusion",
            lane_class="H/D",
            ttft_s=0.4,
            tokens_per_s=1000.0,
            one_shot=0.0,
            first_faults=(2, 4),
            fix_rate=0.85,
            regression=0.05,
        ),
        SimProfile(
            name="frontier",
            label="Frontier",
            lane_class="H/AR",
            ttft_s=15.0,
            tokens_per_s=55.0,
            one_shot=0.6,
            first_faults=(1, 2),
            fix_rate=0.95,
            regression=0.0,
        ),
        SimProfile(
            name="mini",
            label="Mini",
            lane_class="H/AR",
            ttft_s=2.0,
            tokens_per_s=120.0,
            one_shot=0.15,
            first_faults=(3, 6),
            fix_rate=0.6,
            regression=0.1,
        ),
        SimProfile(
            name="weak-local",
            label="Weak local",
            lane_class="L/AR",
            ttft_s=1.5,
            tokens_per_s=80.0,
            one_shot=0.0,
            first_faults=(8, 12),
            fix_rate=0.2,
            regression=0.35,
            floor=3,
            no_code=0.1,
        ),
    )
}

# The offline race: every simulated profile, in the order they are declared.
DEFAULT_SIM_LANES = [f"sim:{name}" for name in PROFILES]


def profiles_hint(prefix: str = "sim:") -> str:
    """The profiles as a user types them, for messages: ``sim:fast-diffusion, sim:frontier, ...``."""
    return ", ".join(f"{prefix}{name}" for name in PROFILES)
