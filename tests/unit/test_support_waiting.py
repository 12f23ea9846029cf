"""support.waiting: a test goes on the moment its condition holds, and a hang fails with a message."""

from __future__ import annotations

import pytest
from support.waiting import wait_for

pytestmark = pytest.mark.anyio


async def test_it_returns_what_the_condition_gave_as_soon_as_it_holds() -> None:
    looks: list[int] = []

    def third_look() -> str:
        looks.append(1)
        return "found" if len(looks) == 3 else ""

    assert await wait_for(third_look, poll_s=0) == "found"
    assert len(looks) == 3  # not looked at again once it held


async def test_a_condition_that_never_holds_fails_naming_it() -> None:
    with pytest.raises(AssertionError, match=r"^still waiting for the moon after 0.01 s$"):
        await wait_for(lambda: False, 0.01, what="the moon")
