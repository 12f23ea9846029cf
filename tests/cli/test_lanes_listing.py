"""``loopterm lanes`` fits the terminal: a real child process, real fake server."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.fakes.fixtures import FakeServer, running_fake_server

from loopterm.lanes import PRESETS

LONG_MODEL = "/home/someone/models/qwen2.5-coder-7b-instruct-q4_k_m.gguf"
# Without llama-cpp-python every llamacpp lane reads "not installed" before its file is looked for.
needs_llama_cpp = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None,
    reason="needs the local extra (llama-cpp-python): pip install 'loopterm[local]'",
)
HOSTED_VARS = ("OPENAI_API_KEY", "GEMINI_API_KEY", "INCEPTION_API_KEY", "OLLAMA_API_KEY", "OLLAMA_HOST", "COLUMNS")


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeServer]:
    yield from running_fake_server()


def lanes(*args: str, columns: int | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in HOSTED_VARS}
    if columns is not None:
        env["COLUMNS"] = str(columns)
    return subprocess.run(
        [sys.executable, "-m", "loopterm", "lanes", *args], capture_output=True, text=True, env=env, timeout=60
    )


def test_the_listing_fits_80_columns_and_keeps_every_detail() -> None:
    out = lanes(columns=80)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert lines[0].split() == ["LANE", "PROVIDER", "MODEL", "CLASS", "SOURCE", "READY"]
    # Each detail sits, whole, on the lines under its lane.
    mercury = next(i for i, line in enumerate(lines) if line.startswith("mercury-2 "))
    assert lines[mercury + 1].strip() == "no key: set INCEPTION_API_KEY"
    ollama = next(i for i, line in enumerate(lines) if line.startswith("ollama:<model> "))
    assert lines[ollama + 1].strip().startswith("cannot reach http://127.0.0.1:11434")
    for ref in PRESETS:
        assert any(line.startswith(f"{ref} ") for line in lines)


def test_a_wide_terminal_keeps_one_line_a_lane() -> None:
    out = lanes(columns=200)
    lines = out.stdout.splitlines()
    assert lines[0].split()[-1] == "DETAIL"
    mercury = next(line for line in lines if line.startswith("mercury-2 "))
    assert mercury.endswith("no key: set INCEPTION_API_KEY")
    # header, presets, ollama:<model>, four sim profiles, where the lanes file is
    assert len(lines) == 1 + len(PRESETS) + 1 + 4 + 1
    assert lines[-1].startswith("lanes file: ")


def widest(lines: list[str], lanes_file: Path) -> int:
    """The widest line but the lanes file's own path, which is never cut: on a line of its own when
    it does not fit, and how long it is depends on where pytest keeps its temporary folders."""
    return max(len(line) for line in lines if line != f"  {lanes_file}")


def test_a_failed_check_is_wrapped_under_its_lane_at_80_columns(fake_server: FakeServer, tmp_path: Path) -> None:
    bad = f"unauthorized~{uuid.uuid4().hex[:8]}"
    path = tmp_path / "lanes.toml"
    path.write_text(
        f'[[lanes]]\nname = "Refused"\nprovider = "openai"\nmodel = "{bad}"\n'
        f'base_url = "{fake_server.url}/v1"\nclass = "L/AR"\napi_key_env = "LISTING_KEY"\n'
    )
    env_key = {"LISTING_KEY": "sk-listing-test-0000"}
    os.environ.update(env_key)
    try:
        out = lanes("--lanes", str(path), "--check", "Refused", columns=80)
    finally:
        os.environ.pop("LISTING_KEY")
    assert out.returncode == 1
    lines = out.stdout.splitlines()
    assert widest(lines, path) <= 80
    assert lines[0].split()[-2:] == ["CHECK", "TTFT"] and "DETAIL" not in lines[0]
    assert lines[1].split()[-1] == "auth"
    message = " ".join(line.strip() for line in lines[2:] if not line.startswith(("lanes file", "  /")))
    assert message.startswith("Refused: ") and message.endswith("check the key in LISTING_KEY")
    assert "sk-listing-test-0000" not in out.stdout


def test_a_named_lane_that_cannot_be_checked_fails_the_check() -> None:
    # No INCEPTION_API_KEY here: nothing can be sent, so the check did not pass.
    out = lanes("--check", "mercury-2", "sim:mini", columns=200)
    assert out.returncode == 1
    assert out.stderr.strip() == "loopterm: not checked (not ready, see DETAIL): mercury-2"
    row = next(line for line in out.stdout.splitlines() if line.startswith("mercury-2 "))
    assert row.endswith("no key: set INCEPTION_API_KEY")
    # Listing every lane with --check still passes when the ready ones do.
    assert lanes("--check", "sim:mini").returncode == 0


def test_every_json_row_has_the_same_keys() -> None:
    import json

    rows = json.loads(lanes("--json").stdout)
    keys = {frozenset(row) for row in rows}
    assert len(keys) == 1, keys
    pattern = next(row for row in rows if row["lane"] == "ollama:<model>")
    assert pattern["base_url"] == "http://127.0.0.1:11434" and pattern["name"] == "ollama:<model>"


def test_a_file_lane_named_like_a_preset_is_listed_once_as_what_runs(tmp_path: Path) -> None:
    import json

    path = tmp_path / "lanes.toml"
    path.write_text('[[lanes]]\nname = "mercury-2"\nprovider = "sim"\nmodel = "fast-diffusion"\n')
    rows = [row for row in json.loads(lanes("--lanes", str(path), "--json").stdout) if row["lane"] == "mercury-2"]
    # `race mercury-2` runs the file's lane, so the preset is not listed beside it.
    assert [(row["source"], row["provider"]) for row in rows] == [("file", "sim")]


def long_model_path_listing(tmp_path: Path) -> list[str]:
    path = tmp_path / "lanes.toml"
    path.write_text(f'[[lanes]]\nname = "Qwen coder 7B (local)"\nprovider = "llamacpp"\nmodel = "{LONG_MODEL}"\n')
    out = lanes("--lanes", str(path), "Qwen coder 7B (local)", columns=80)
    assert out.returncode == 0, out.stderr
    return out.stdout.splitlines()


def test_a_long_model_path_keeps_its_file_name_within_80_columns(tmp_path: Path) -> None:
    lines = long_model_path_listing(tmp_path)
    assert widest(lines, tmp_path / "lanes.toml") <= 80
    assert lines[0].split() == ["LANE", "MODEL", "CLASS", "READY"]
    assert "..." in lines[1] and "qwen2.5-coder-7b-instruct-q4_k_m.gguf" in lines[1]
    assert len(lines) > 2 and lines[2].startswith(" ")  # why it is not ready, under its lane


@needs_llama_cpp
def test_a_missing_model_file_is_named_whole_under_its_lane(tmp_path: Path) -> None:
    # With llama-cpp-python installed the listing looks for the file, and names the whole path.
    lines = long_model_path_listing(tmp_path)
    assert widest(lines, tmp_path / "lanes.toml") <= 80
    assert lines[2].strip().startswith("no GGUF file at /home/someone/models/")  # the detail keeps it whole
