"""A plain (non-editable) install finds the task and the themes inside the wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from loopterm.tasks import find_task


def test_the_wheel_carries_spec_validation_and_themes_and_they_are_found(tmp_path: Path, repo_root: Path) -> None:
    # --no-build-isolation: hatchling comes from the dev extra, no network needed.
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), "."],
        cwd=repo_root,
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("loopterm-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "loopterm/_data/spec/quote-approval/openapi.yaml",
        "loopterm/_data/spec/quote-approval/prompt.md",
        "loopterm/_data/validation/quote-approval/checks.py",
        "loopterm/_data/validation/quote-approval/reference.py",
        "loopterm/_data/validation/quote-approval/faults.py",
        "loopterm/_data/themes/loopterm-dark.toml",
        "loopterm/tui/loopterm.tcss",
    ):
        assert needed in names, needed
    assert not any("__pycache__" in n for n in names)

    # Unpacked away from the checkout, the package finds its data in loopterm/_data.
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    code = (
        "from loopterm.tasks import find_task; from loopterm.paths import data_dir; t = find_task(); "
        "print(data_dir()); print(len(t.suite.checks), len(t.faults)); "
        "print((data_dir() / 'themes' / 'loopterm-contrast.toml').is_file())"
    )
    env = os.environ | {"PYTHONPATH": str(site)}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    )
    where, counts, themes = out.stdout.split("\n")[:3]
    assert where == str(site / "loopterm" / "_data")
    checkout = find_task()  # the wheel carries the same suite and catalogue as this checkout
    assert counts == f"{len(checkout.suite.checks)} {len(checkout.faults)}" and themes == "True"
