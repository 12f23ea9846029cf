"""The fault catalogue of quote-approval: each fault breaks exactly what it says."""

from __future__ import annotations

import random
from itertools import pairwise

import pytest

from loopterm.faults import Fault, apply_faults
from loopterm.sandbox.runner import load_app, run_suite
from loopterm.tasks import find_task

TASK = find_task("quote-approval")
FAULTS = TASK.faults
REFERENCE = TASK.reference_source


def span(fault: Fault) -> tuple[int, int]:
    start = REFERENCE.index(fault.find)
    return start, start + len(fault.find)


def test_catalogue_is_large_with_unique_ids() -> None:
    ids = [f.id for f in FAULTS]
    assert len(ids) >= 30
    assert len(set(ids)) == len(ids)


def test_every_fault_names_real_checks() -> None:
    known = set(TASK.suite.by_id())
    for fault in FAULTS:
        assert fault.breaks, f"{fault.id} breaks nothing: the suite would not notice it"
        assert fault.breaks <= known, f"{fault.id}: unknown ids {sorted(fault.breaks - known)}"
        assert fault.find != fault.replace


def test_each_snippet_occurs_exactly_once() -> None:
    for fault in FAULTS:
        assert REFERENCE.count(fault.find) == 1, fault.id


def test_snippets_do_not_overlap() -> None:
    spans = sorted((span(f), f.id) for f in FAULTS)
    for ((_, end), first), ((start, _), second) in pairwise(spans):
        assert end <= start, f"{first} and {second} edit overlapping text"


def test_no_replacement_creates_another_faults_snippet() -> None:
    # Otherwise applying one fault could make another's snippet occur twice.
    for a in FAULTS:
        for b in FAULTS:
            if a is not b:
                assert b.find not in a.replace, f"{a.id}'s replacement contains {b.id}'s snippet"


def test_all_faults_together_apply_and_load() -> None:
    source = apply_faults(REFERENCE, FAULTS)
    compile(source, "all_faults.py", "exec")
    load_app(source)


def test_any_subset_applies_in_any_order() -> None:
    rng = random.Random(7)
    for _ in range(20):
        subset = rng.sample(FAULTS, rng.randint(2, 12))
        rng.shuffle(subset)
        compile(apply_faults(REFERENCE, subset), "subset.py", "exec")


@pytest.mark.anyio
@pytest.mark.parametrize("fault", FAULTS, ids=[f.id for f in FAULTS])
async def test_fault_alone_breaks_exactly_its_checks(fault: Fault) -> None:
    results = await run_suite(TASK.suite, fault.apply(REFERENCE))
    failing = {r.id: r.message for r in results if not r.passed}
    assert set(failing) == fault.breaks
    for message in failing.values():
        # The message is the model's feedback: it says what was sent, expected and got.
        assert "sent" in message and "expected" in message and "got" in message, message
