"""The domain must not depend on Textual or provider SDKs (see DESIGN.md)."""

from __future__ import annotations

import subprocess
import sys

DOMAIN = [
    "loopterm.cli",
    "loopterm.events",
    "loopterm.lanes",
    "loopterm.tasks",
    "loopterm.suite",
    "loopterm.faults",
    "loopterm.paths",
    "loopterm.providers",
    "loopterm.sandbox.runner",
]


def test_domain_modules_do_not_import_textual_or_sdks() -> None:
    code = (
        "import sys\n"
        f"for name in {DOMAIN!r}: __import__(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'openai', 'google', 'ollama', 'llama_cpp'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_help_is_fast_because_it_imports_nothing_heavy() -> None:
    code = (
        "import sys\nfrom loopterm.cli import build_parser\nbuild_parser()\n"
        "print(','.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('textual', 'openai', 'google', 'ollama', 'httpx'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
