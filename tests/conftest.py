"""Shared fixtures: every test gets its own cache and config dirs."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from loopterm.sandbox import Sandbox
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
    return Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def task() -> Task:
    """The built-in quote-approval task (tests of other tasks define their own ``task``)."""
    return find_task("quote-approval")


@pytest.fixture
async def sandbox(task: Task) -> AsyncIterator[Sandbox]:
    """A warm sandbox for ``task``, closed after the test."""
    async with Sandbox(task) as box:
        yield box
