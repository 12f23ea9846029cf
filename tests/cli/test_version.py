"""The version lives in one place, ``loopterm.__version__``; the build and the CLI read it there."""

from __future__ import annotations

import importlib.metadata
import shutil
from pathlib import Path

import pytest
from hatchling.build import prepare_metadata_for_build_wheel
from support.in_process import LoopTerm

import loopterm


def test_loopterm_version_is_the_installed_distributions_version(loopterm_main: LoopTerm) -> None:
    out = loopterm_main("--version")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"loopterm {importlib.metadata.version('loopterm')}"
    assert out.stdout.strip() == f"loopterm {loopterm.__version__}"


def test_the_build_reads_the_version_from_the_package(
    tmp_path: Path, repo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pyproject.toml as it is, beside a package whose __version__ says something else:
    # a version written in pyproject.toml too would win here and the two would drift.
    shutil.copy(repo_root / "pyproject.toml", tmp_path)
    shutil.copy(repo_root / "README.md", tmp_path)
    package = tmp_path / "src" / "loopterm"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text('__version__ = "9.8.7"\n')
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(tmp_path)  # the PEP 517 hook builds the project in the current folder
    info = prepare_metadata_for_build_wheel(str(out))
    assert info == "loopterm-9.8.7.dist-info"
    assert "\nVersion: 9.8.7\n" in (out / info / "METADATA").read_text()
