"""The domain must not depend on Textual or provider SDKs (see DESIGN.md)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest
from support.paths import REPO

SRC = REPO / "src"

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


def _imports(path: Path) -> set[str]:
    """Every loopterm module ``path`` imports, at any depth (function-level imports too)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in names if name.split(".")[0] == "loopterm"}


def _modules(package: str) -> dict[str, set[str]]:
    root = SRC / package.replace(".", "/")
    files = sorted(root.rglob("*.py")) if root.is_dir() else [root.with_suffix(".py")]
    assert files, f"{package}: nothing to check"
    return {str(path.relative_to(SRC)): _imports(path) for path in files}


def _reaching(imports: set[str], layers: tuple[str, ...]) -> list[str]:
    return sorted(name for name in imports if any(name == layer or name.startswith(layer + ".") for layer in layers))


def test_storage_never_imports_a_command_or_a_view() -> None:
    """traces/ (writer, reader, store, replay clock) sits below the CLI and every printer."""
    above = ("loopterm.cli", "loopterm.commands", "loopterm.plain", "loopterm.tui")
    bad = {module: _reaching(imports, above) for module, imports in _modules("loopterm.traces").items()}
    assert {module: names for module, names in bad.items() if names} == {}


def test_only_the_cli_imports_the_commands() -> None:
    """Commands call into the library, never the other way (storage reaching up to the CLI was a bug)."""
    top = ("loopterm.cli", "loopterm.commands")
    bad = {
        module: _reaching(imports, top)
        for module, imports in _modules("loopterm").items()
        if not module.startswith(("loopterm/commands/", "loopterm/cli.py", "loopterm/__main__.py"))
    }
    assert {module: names for module, names in bad.items() if names} == {}


# What `loopterm --help` and a mistyped argument must not pay for: the event models
# (pydantic builds every one), the printers, the viewer.
ENGINE = (
    "loopterm.events",
    "loopterm.plain",
    "loopterm.stats",
    "loopterm.loop",
    "loopterm.traces.reader",
    "pydantic",
    "rich",
    "textual",
)


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["--help"], 0),
        (["bench", "--help"], 0),
        (["replay", "--help"], 0),
        (["bench", "--runs", "0"], 2),
        (["report", "--format", "gif"], 2),
        (["no-such-command"], 2),
    ],
)
def test_help_and_argument_errors_do_not_import_the_engine(argv: list[str], code: int) -> None:
    script = (
        "import atexit, sys\n"
        "atexit.register(lambda: sys.__stderr__.write('\\nMODULES ' + ' '.join(sorted(sys.modules)) + '\\n'))\n"
        "from loopterm.cli import main\n"
        f"sys.exit(main({argv!r}))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == code, out.stderr
    modules = out.stderr.rsplit("MODULES ", 1)[1].split()
    assert "loopterm.cli" in modules and "loopterm.commands.bench" in modules  # the test saw the right run
    assert _reaching(set(modules), ENGINE) == []
