"""Shared fixtures: every test gets its own cache and config dirs."""

from __future__ import annotations

from pathlib import Path

import pytest


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
