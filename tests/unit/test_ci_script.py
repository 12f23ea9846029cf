"""CI runs the checks, then the README's test command, on the README's set-up plus the `local` extra."""

from __future__ import annotations

from pathlib import Path

SETUP = "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]'"
TEST_COMMAND = ".venv/bin/python -m pytest"


def test_the_readme_sets_up_then_runs_the_tests(repo_root: Path) -> None:
    readme = (repo_root / "README.md").read_text()
    assert f"\n{SETUP}\n{TEST_COMMAND}\n" in readme, "the README's quick start no longer reads as this test expects"


def test_ci_installs_once_and_runs_the_readme_test_command_exactly(repo_root: Path) -> None:
    lines = [line.strip() for line in (repo_root / ".ci" / "run").read_text().splitlines()]
    commands = [line for line in lines if line and not line.startswith("#")]
    installs = [line for line in commands if " install " in f" {line} "]
    assert installs == [".venv/bin/pip install --quiet -e '.[dev,local]'"], installs
    assert commands[-1] == TEST_COMMAND  # last, so its exit code (5 when nothing ran, too) is CI's


def test_ci_lints_formats_types_and_checks_the_layers_before_the_tests(repo_root: Path) -> None:
    lines = [line.strip() for line in (repo_root / ".ci" / "run").read_text().splitlines()]
    commands = [line for line in lines if line and not line.startswith("#")]
    assert "set -euo pipefail" in commands  # so each check that fails stops CI
    checks = [
        ".venv/bin/ruff check src tests benchmarks",
        ".venv/bin/ruff format --check src tests benchmarks",
        ".venv/bin/mypy",
        ".venv/bin/lint-imports",
        TEST_COMMAND,
    ]
    assert [line for line in commands if line in checks] == checks  # each once, cheapest first, tests last
    install = commands.index(".venv/bin/pip install --quiet -e '.[dev,local]'")
    assert install < commands.index(checks[0])
