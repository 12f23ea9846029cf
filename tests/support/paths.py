"""Where the tests find the repository and the candidate files they hand the sandbox.

The test modules sit one folder down, in their layer (``tests/unit``, ``tests/cli``...),
so a path built from a module's own ``__file__`` would move with it; these do not.
``candidates/`` is data (hostile and broken answers, the tiny "mini" task), not tests.
"""

from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
REPO = TESTS.parent
CANDIDATES = TESTS / "candidates"
