"""Shared fixtures: every test gets its own cache and config dirs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.in_process import LoopTerm, Ran, run_main
from support.paths import REPO
from support.shared_sandbox import SharedSandbox

from loopterm.tasks import Task, find_task


@pytest.fixture(autouse=True)
def _isolated_dirs(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests never read or write the developer's own config or cache.
    root = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("LOOPTERM_CACHE_DIR", str(root / "cache"))
    monkeypatch.setenv("LOOPTERM_CONFIG_DIR", str(root / "config"))
    monkeypatch.delenv("NO_COLOR", raising=False)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def task() -> Task:
    """The built-in quote-approval task (tests of other tasks define their own ``task``)."""
    return find_task("quote-approval")


@pytest.fixture(scope="session")
def sandbox(task: Task, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SharedSandbox]:
    """One warm sandbox for the quote-approval task, shared by the tests that validate with it
    (see support/shared_sandbox.py); started by the first test that asks for it."""
    root = tmp_path_factory.mktemp("shared-sandbox-home")
    with pytest.MonkeyPatch.context() as env:  # set up before any test's own dirs: never the user's
        env.setenv("LOOPTERM_CACHE_DIR", str(root / "cache"))
        env.setenv("LOOPTERM_CONFIG_DIR", str(root / "config"))
        box = SharedSandbox(task)
    try:
        yield box
    finally:
        box.close()


@pytest.fixture
def loopterm_main(capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> LoopTerm:
    """``loopterm ARGS`` run in this process (support/in_process.py): ``loopterm_main("race", "--json", env={...})``."""

    def run(*args: str | Path, env: dict[str, str | None] | None = None, cwd: Path | None = None) -> Ran[str]:
        return run_main(capfd, monkeypatch, args, env=env, cwd=cwd)

    return run
