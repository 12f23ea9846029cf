"""One list of key shapes: what the lanes file refuses is what scrubbing masks, shape by shape."""

from __future__ import annotations

import pytest

from loopterm.keys import KEY_PREFIXES, key_shaped, mask_keys
from loopterm.providers.streaming import scrub

SHAPES = {
    "sk-": "sk-proj-Ab12Cd34Ef56Gh78",
    "sk_": "sk_live_Ab12Cd34Ef56",
    "AIza": "AIzaSyAb12Cd34Ef56Gh78",
    "gsk_": "gsk_Ab12Cd34Ef56Gh78Ij90",
    "xai-": "xai-Ab12Cd34Ef56Gh78Ij90",
    "hf_": "hf_Ab12Cd34Ef56Gh78Ij90",
}


def test_every_known_prefix_has_a_shape_here() -> None:
    assert set(SHAPES) == set(KEY_PREFIXES)


@pytest.mark.parametrize("prefix", sorted(SHAPES))
def test_a_key_of_each_shape_is_detected_and_masked(prefix: str) -> None:
    key = SHAPES[prefix]
    assert key_shaped(key)
    text = f"401 Incorrect API key provided: {key}. See the docs."
    assert key not in mask_keys(text) and "***" in mask_keys(text)
    # What a provider's error becomes before it is kept in a trace.
    assert key not in scrub(text, secret=None)


def test_words_that_merely_contain_a_prefix_are_left_alone() -> None:
    text = "task-id ask-me disk-space OPENAI_API_KEY shf_x"
    assert mask_keys(text) == text
    assert not key_shaped("OPENAI_API_KEY")
