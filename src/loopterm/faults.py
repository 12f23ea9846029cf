"""Faults: small, named edits of a task's reference solution.

A task's ``validation/<id>/faults.py`` lists ``FAULTS``. Each fault replaces one
exact snippet of the reference (found exactly once) and names the check ids it
breaks. Tests prove the suite catches every fault; simulated models start from
the reference with faults applied and remove them as feedback names them.
Faults of one task touch disjoint snippets, so any subset applies cleanly.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class FaultError(ValueError):
    """A fault that no longer matches the reference it was written for."""


@dataclass(frozen=True)
class Fault:
    id: str
    description: str
    find: str
    replace: str
    breaks: frozenset[str]

    def apply(self, source: str) -> str:
        count = source.count(self.find)
        if count != 1:
            raise FaultError(f"fault {self.id}: its snippet occurs {count} times in the source (must be once)")
        return source.replace(self.find, self.replace, 1)


def fault(id: str, description: str, find: str, replace: str, breaks: Iterable[str]) -> Fault:
    """Shorthand used by fault catalogues."""
    return Fault(id, description, find, replace, frozenset(breaks))


def apply_faults(source: str, faults: Iterable[Fault]) -> str:
    for f in faults:
        source = f.apply(source)
    return source
