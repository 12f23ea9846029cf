"""Tokens/s in a live pane when a provider retries a generation mid-turn.

A retried attempt starts its stream again from zero, and the Generation's
usage counts every billed attempt (a cut stream's tokens included): neither
may bend the rate the pane shows for the stream in front of the user.
"""

from __future__ import annotations

from support.event_builders import race_started
from support.tui_script import LANES, fold

from loopterm.events import (
    GenerationDone,
    GenerationProgress,
    LaneStarted,
    RetryRecord,
    TokenUsage,
    TurnStarted,
)
from loopterm.racestate import RaceState


def _turn() -> RaceState:
    start = race_started(
        LANES[:1],
        race_id="r1",
        task_hash="x",
        max_turns=5,
        time_scale=1.0,
        seed=1,
        started_at="2026-01-01T00:00:00Z",
        loopterm_version="0",
    )
    return fold([start, LaneStarted(t=0.0, lane="fast"), TurnStarted(t=0.0, lane="fast", turn=1)])


def test_a_retried_stream_is_timed_from_its_own_first_token() -> None:
    state = _turn()
    lane = state.lanes["fast"]
    # First attempt: 100 tokens/s for 2 s, then the stream is cut.
    state.apply(GenerationProgress(t=1.0, lane="fast", turn=1, chars=40, tokens=10, first_token=True))
    state.apply(GenerationProgress(t=3.0, lane="fast", turn=1, chars=840, tokens=210))
    assert lane.tokens_per_s == 100.0
    # Backoff, then the retry streams from zero at 50 tokens/s.
    state.apply(GenerationProgress(t=10.0, lane="fast", turn=1, chars=20, tokens=5))
    assert lane.tokens == 5
    assert lane.tokens_per_s is None or lane.tokens_per_s >= 0  # never a negative rate
    state.apply(GenerationProgress(t=12.0, lane="fast", turn=1, chars=420, tokens=105))
    assert lane.tokens_per_s == 50.0  # not 95 tokens over the 11 s since the first attempt began


def test_usage_of_lost_attempts_does_not_inflate_the_final_rate() -> None:
    state = _turn()
    lane = state.lanes["fast"]
    state.apply(GenerationProgress(t=1.0, lane="fast", turn=1, chars=4, tokens=1, first_token=True))
    state.apply(GenerationProgress(t=3.0, lane="fast", turn=1, chars=804, tokens=201))  # then cut
    state.apply(GenerationProgress(t=9.0, lane="fast", turn=1, chars=4, tokens=1))
    state.apply(GenerationProgress(t=11.0, lane="fast", turn=1, chars=404, tokens=101))
    assert lane.tokens_per_s == 50.0
    # 300 completion tokens billed over both attempts; the last one streamed for 2 s.
    retry = RetryRecord(kind="stream_cut", message="cut", wait_s=5.0)
    state.apply(
        GenerationDone(
            t=11.5,
            lane="fast",
            turn=1,
            text="x" * 404,
            ttft_s=1.0,
            generation_s=3.0,
            usage=TokenUsage(prompt=10, completion=300),
            retries=[retry],
            error="Fast: the stream stopped",
            error_kind="stream_cut",
        )
    )
    assert lane.tokens == 300  # what the turn was billed
    assert lane.tokens_per_s == 50.0  # not 300 / 2 s: 200 of those tokens streamed before the cut


def test_without_retries_the_final_rate_comes_from_the_usage() -> None:
    state = _turn()
    lane = state.lanes["fast"]
    state.apply(GenerationProgress(t=1.0, lane="fast", turn=1, chars=4, tokens=1, first_token=True))
    state.apply(
        GenerationDone(
            t=3.0,
            lane="fast",
            turn=1,
            text="x" * 400,
            ttft_s=1.0,
            generation_s=3.0,
            usage=TokenUsage(prompt=10, completion=120),
            error="Fast: x",
            error_kind="timeout",
        )
    )
    assert lane.tokens_per_s == 60.0  # 120 tokens in the 2 s after the first token
