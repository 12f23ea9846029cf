"""The tests' own layout (tests/README.md): test modules in their layer, shared code in ``support``.

A test module that imports another drags that module's tests and fixtures along and
couples two layers; what two modules share belongs in ``tests/support``. Test modules
are imported by their file name (pytest's default "prepend" mode, no ``__init__.py`` in
the layer folders), so two with one name in two layers would not both load. And a
test waits on conditions, not on the clock: a sleep left in one is the point of it
(a busy process, a slow model, a hanging probe) or the poll of a condition wait, and
says which on its line.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

from support.paths import TESTS

LAYERS = ("unit", "sandbox", "providers", "tui", "cli", "e2e")
DATA = ("candidates", "__snapshots__")  # hostile candidate files and SVGs: data, never imported by a test


def _python_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py") if not set(p.relative_to(root).parts) & {*DATA, "__pycache__"})


def _is_test_module(name: str) -> bool:
    return any(part.startswith("test_") or part == "conftest" for part in name.split("."))


def _test_imports(path: Path) -> set[str]:
    """The test modules (and conftests) ``path`` imports, at any depth: lazy imports count."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            # ``from test_x import y`` names the module; ``from . import test_x`` names it in the alias
            names = [base] if _is_test_module(base) else [f"{base}.{a.name}".lstrip(".") for a in node.names]
        else:
            continue
        found.update(name for name in names if _is_test_module(name))
    return found


def _unexplained_sleeps(path: Path) -> list[int]:
    """Lines of ``path`` that sleep or pause for a while without a ``# the point`` or ``# poll`` comment."""
    text = path.read_text()
    lines = text.splitlines()
    found = []
    for node in ast.walk(ast.parse(text, str(path))):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("sleep", "pause")
            and node.args
        ):
            continue
        duration = node.args[0]
        if isinstance(duration, ast.Constant) and duration.value == 0:
            continue  # a yield to the event loop, not a wait
        comment = lines[node.lineno - 1].partition("#")[2]
        if "the point" not in comment and "poll" not in comment:
            found.append(node.lineno)
    return found


def layout_problems(root: Path) -> list[str]:
    """What breaks the layout under ``root`` (a tests folder), one line each; empty when it holds."""
    problems: list[str] = []
    files = _python_files(root)
    tests = [p for p in files if p.name.startswith("test_")]
    for path in tests:
        where = path.relative_to(root)
        if len(where.parts) != 2 or where.parts[0] not in LAYERS:
            problems.append(f"{where}: a test module belongs directly in one of {', '.join(LAYERS)}")
    for name, count in Counter(p.name for p in tests).items():
        if count > 1:
            problems.append(f"{name}: {count} test modules share this name; rename one")
    for path in files:
        problems += [
            f"{path.relative_to(root)}: imports {name}; move what it shares to support/"
            for name in sorted(_test_imports(path))
        ]
        problems += [
            f"{path.relative_to(root)}:{line}: a sleep; wait for the condition instead (support.waiting)"
            " or say on its line why it is the point"
            for line in _unexplained_sleeps(path)
        ]
    return problems


def test_the_checker_sees_each_kind_of_problem(tmp_path: Path) -> None:
    (tmp_path / "unit").mkdir()
    (tmp_path / "cli").mkdir()
    (tmp_path / "support").mkdir()
    (tmp_path / "candidates").mkdir()
    (tmp_path / "test_flat.py").write_text("")
    (tmp_path / "unit" / "test_a.py").write_text("from test_b import THING\n")
    (tmp_path / "cli" / "test_b.py").write_text("def f():\n    import unit.test_a\n")
    (tmp_path / "cli" / "test_a.py").write_text("from . import test_b\n")
    (tmp_path / "support" / "helpers.py").write_text("from conftest import fixture\n")
    (tmp_path / "unit" / "test_c.py").write_text(
        "async def f(pilot):\n"
        "    await asyncio.sleep(0.3)  # the worker is done by now\n"
        "    await pilot.pause(0.1)\n"
        "    time.sleep(1)  # the point: a busy process\n"
        "    await asyncio.sleep(0)\n"
        "    await pilot.pause()\n"
        "    await asyncio.sleep(POLL_S)  # poll\n"
        "    source = 'await asyncio.sleep(5)'\n"
    )
    (tmp_path / "candidates" / "test_hostile.py").write_text("import test_anything\n")  # data: not looked at
    assert sorted(layout_problems(tmp_path)) == sorted(
        [
            "test_flat.py: a test module belongs directly in one of unit, sandbox, providers, tui, cli, e2e",
            "test_a.py: 2 test modules share this name; rename one",
            "unit/test_a.py: imports test_b; move what it shares to support/",
            "cli/test_b.py: imports unit.test_a; move what it shares to support/",
            "cli/test_a.py: imports test_b; move what it shares to support/",
            "support/helpers.py: imports conftest; move what it shares to support/",
            "unit/test_c.py:2: a sleep; wait for the condition instead (support.waiting) or say on its line why it is"
            " the point",
            "unit/test_c.py:3: a sleep; wait for the condition instead (support.waiting) or say on its line why it is"
            " the point",
        ]
    )


def test_the_tests_keep_their_layout() -> None:
    assert layout_problems(TESTS) == []
    assert {p.name for p in TESTS.iterdir() if p.is_dir() and not p.name.startswith((".", "_"))} == {
        *LAYERS,
        "support",
        "candidates",
    }
