"""What a simulated model writes: the task's code, never the project's notes about its reference."""

from __future__ import annotations

import ast

import pytest

from loopterm.faults import apply_faults
from loopterm.loop.extract import extract_code
from loopterm.providers import sim
from loopterm.tasks import find_task

pytestmark = pytest.mark.anyio

TASK = find_task()


def test_the_reference_has_a_docstring_to_hide() -> None:
    # The premise: without it the tests below would pass for the wrong reason.
    assert "faults.py" in (ast.get_docstring(ast.parse(TASK.reference_source)) or "")


def test_the_answer_base_is_the_reference_without_its_module_docstring() -> None:
    base = sim.answer_base(TASK.reference_source)
    assert ast.get_docstring(ast.parse(base)) is None
    assert "reference" not in base.split("\n\n")[0] and "faults.py" not in base
    assert base.startswith("import ")  # no blank lines left where the docstring was
    assert TASK.reference_source.endswith(base)  # nothing else changed
    apply_faults(base, TASK.faults)  # every fault still finds its snippet, once


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('#!/usr/bin/env python\n"""About it."""\n\nx = 1\n', "#!/usr/bin/env python\nx = 1\n"),
        ("'''One line: café.'''\nx = 1\n", "x = 1\n"),
        ('"""Doc."""; x = 1\n', '"""Doc."""; x = 1\n'),  # code on the docstring's line: kept whole
        ("x = 1\n", "x = 1\n"),
        ('"""Unclosed\n', '"""Unclosed\n'),
        ("", ""),
    ],
)
def test_answer_base_edge_cases(source: str, expected: str) -> None:
    assert sim.answer_base(source) == expected


@pytest.mark.parametrize("profile", sorted(sim.PROFILES))
async def test_no_answer_of_any_profile_carries_the_reference_docstring(profile: str) -> None:
    provider = sim.SimProvider(sim.PROFILES[profile].lane(), task=TASK, seed=3, time_scale=0)
    feedback = "Score: 0/47. Failing: " + " ".join(c.id for c in TASK.suite.checks)
    for _ in range(4):
        generation = await provider.generate([{"role": "user", "content": feedback}])
        code = extract_code(generation.text)
        if code is None:  # an answer with no code at all
            continue
        assert "the reference candidate" not in code and "faults.py" not in code
