"""The shared pieces of the real providers: backoff, Retry-After, scrubbing."""

from __future__ import annotations

import email.utils
import time

import pytest

from loopterm.providers.base import RETRYABLE, ErrorKind
from loopterm.providers.retry import Backoff, parse_retry_after
from loopterm.providers.streaming import scrub
from loopterm.words import fmt_setting_s


def test_backoff_doubles_and_caps_and_retry_after_wins() -> None:
    backoff = Backoff(base_s=0.5, cap_s=3.0)
    assert [backoff.delay(n, None) for n in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert backoff.delay(4, 7.5) == 7.5  # the server knows better than our schedule
    assert backoff.delay(0, -1.0) == 0.0


def test_retry_after_in_seconds_milliseconds_and_dates() -> None:
    assert parse_retry_after({"Retry-After": "2"}) == 2.0
    assert parse_retry_after({"retry-after": "0.25"}) == 0.25
    assert parse_retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    before = time.time()
    later = email.utils.formatdate(before + 30, usegmt=True)  # whole seconds: up to 1 s earlier
    wait = parse_retry_after({"retry-after": later}) or 0
    assert before + 29 - time.time() <= wait <= 30  # less however long the two lines took
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({"retry-after": "inf"}) is None
    assert parse_retry_after(None) is None


def test_scrub_masks_keys_and_keeps_one_short_line() -> None:
    secret = "my-own-secret-value-123"
    text = f"bad key {secret}\nIncorrect API key provided: sk-ab***yz. Bearer abc.def\n"
    out = scrub(text, secret)
    assert secret not in out and "sk-ab" not in out and "abc.def" not in out
    assert "\n" not in out
    assert scrub("AIzaSyA1234567890abcdef please", None) == "*** please"
    assert len(scrub("x" * 500, None)) == 200


def test_retryable_kinds_are_the_infrastructure_ones() -> None:
    assert {k for k in ErrorKind if k.retryable} == set(RETRYABLE)
    assert not ErrorKind.AUTH.retryable and not ErrorKind.PROTOCOL.retryable
    assert ErrorKind.STREAM_CUT.retryable and ErrorKind.RATE_LIMITED.retryable


@pytest.mark.parametrize(("seconds", "text"), [(0.3, "0.3 s"), (2.5, "2.5 s"), (3600, "3600 s"), (12.4, "12 s")])
def test_durations_read_plainly(seconds: float, text: str) -> None:
    assert fmt_setting_s(seconds) == text
