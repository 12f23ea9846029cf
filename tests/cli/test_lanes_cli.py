"""``loopterm lanes``: a real child process, real lanes files, a real fake server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.fakes.fixtures import FakeServer, running_fake_server
from support.fakes.server import closed_port_url

from loopterm.lanes import LaneError, load_user_lanes
from loopterm.paths import lanes_file

SECRET = "sk-lanes-cli-SECRET-5e8d1f"
HOSTED_VARS = ("OPENAI_API_KEY", "GEMINI_API_KEY", "INCEPTION_API_KEY", "OLLAMA_API_KEY", "OLLAMA_HOST", "COLUMNS")


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeServer]:
    yield from running_fake_server()


def loopterm(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    child_env = {k: v for k, v in os.environ.items() if k not in HOSTED_VARS}
    child_env |= env
    return subprocess.run(
        [sys.executable, "-m", "loopterm", "lanes", *args],
        capture_output=True,
        text=True,
        env=child_env,
        timeout=60,
    )


def lane_toml(name: str, model: str, base_url: str, extra: str = "") -> str:
    return (
        f'[[lanes]]\nname = "{name}"\nprovider = "openai"\nmodel = "{model}"\n'
        f'base_url = "{base_url}"\nclass = "L/AR"\n{extra}\n'
    )


def by_lane(stdout: str) -> dict[str, dict[str, Any]]:
    return {row["lane"]: row for row in json.loads(stdout)}


def test_lists_presets_sim_profiles_and_file_lanes_with_readiness(fake_server: FakeServer) -> None:
    path = lanes_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        lane_toml("Fake local", "ok", f"{fake_server.url}/v1")
        + lane_toml("Dead local", "ok", f"{closed_port_url()}/v1")
    )
    out = loopterm("--json", INCEPTION_API_KEY=SECRET)
    assert out.returncode == 0, out.stderr
    assert SECRET not in out.stdout + out.stderr
    rows = by_lane(out.stdout)
    for preset in ["mercury-2", "gpt-5.4", "gpt-5.4-mini", "gpt-4.1-mini", "gemini-2.5-flash", "local:smollm2"]:
        assert rows[preset]["source"] == "preset"
    assert rows["ollama:<model>"]["provider"] == "ollama"
    assert rows["sim:frontier"]["ready"] is True
    mercury = rows["mercury-2"]
    assert (mercury["ready"], mercury["detail"], mercury["class"]) == (True, "key in INCEPTION_API_KEY", "H/D")
    assert rows["gpt-5.4"] == rows["gpt-5.4"] | {"ready": False, "detail": "no key: set OPENAI_API_KEY"}
    assert rows["Fake local"]["ready"] is True and rows["Fake local"]["source"] == "file"
    assert rows["Dead local"]["ready"] is False
    assert "is the server running?" in rows["Dead local"]["detail"]

    table = loopterm(INCEPTION_API_KEY=SECRET, COLUMNS="200")  # one line a lane
    assert table.returncode == 0
    assert table.stdout.splitlines()[0].split() == ["LANE", "PROVIDER", "MODEL", "CLASS", "SOURCE", "READY", "DETAIL"]
    assert any(line.startswith("Fake local") and " yes " in line for line in table.stdout.splitlines())
    assert SECRET not in table.stdout


def test_check_sends_one_tiny_request_and_reports_the_kind(fake_server: FakeServer, tmp_path: Path) -> None:
    good, bad = f"ok~{uuid.uuid4().hex[:8]}", f"unauthorized~{uuid.uuid4().hex[:8]}"
    path = tmp_path / "mine.toml"
    path.write_text(
        lane_toml("Good", good, f"{fake_server.url}/v1")
        + lane_toml("Bad", bad, f"{fake_server.url}/v1", 'api_key_env = "FAKE_CHECK_KEY"')
    )
    out = loopterm("--lanes", str(path), "--check", "--json", "Good", "Bad", FAKE_CHECK_KEY=SECRET)
    assert out.returncode == 1  # one lane failed its check
    rows = by_lane(out.stdout)
    assert list(rows) == ["Good", "Bad"]
    assert rows["Good"]["check"]["ok"] is True and rows["Good"]["check"]["ttft_s"] > 0
    assert rows["Bad"]["check"]["error_kind"] == "auth"
    assert "check the key in FAKE_CHECK_KEY" in rows["Bad"]["check"]["error"]
    assert SECRET not in out.stdout + out.stderr
    # Exactly one request each (no retries in a check), capped to a few tokens.
    for model in (good, bad):
        requests = fake_server.recorder.requests[model]
        assert len(requests) == 1 and requests[0]["body"]["max_tokens"] == 16

    table = loopterm("--lanes", str(path), "--check", "Good")
    assert table.returncode == 0
    header, row, where = table.stdout.splitlines()
    assert where == f"lanes file: {path} (2 lanes)"
    assert header.split()[6:8] == ["CHECK", "TTFT"]
    assert row.split()[6] == "ok"


def test_a_bad_lanes_file_is_one_line_naming_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "lanes.toml"
    path.write_text('[[lanes]]\nname = "X"\nprovider = "openai"\nmodel = "m"\n\nmax_retries = "lots"\n')
    out = loopterm("--lanes", str(path))
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"loopterm: error: {path}:6: lane 'X': field 'max_retries'")


def test_an_unknown_lane_name_is_a_usage_error() -> None:
    out = loopterm("no-such-lane")
    assert out.returncode == 2
    assert "unknown lane 'no-such-lane'" in out.stderr


def test_user_lanes_come_from_the_config_dir_or_the_given_file(tmp_path: Path) -> None:
    assert load_user_lanes() == {}  # no file yet: no lanes, no error
    default = lanes_file()
    default.parent.mkdir(parents=True, exist_ok=True)
    default.write_text(lane_toml("Mine", "m", "http://127.0.0.1:1/v1"))
    assert list(load_user_lanes()) == ["Mine"]
    other = tmp_path / "other.toml"
    other.write_text(lane_toml("Other", "m", "http://127.0.0.1:1/v1"))
    assert list(load_user_lanes(other)) == ["Other"]
    with pytest.raises(LaneError, match="no such lanes file"):
        load_user_lanes(tmp_path / "missing.toml")


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("lane", "detail"),
    [
        ({"provider": "gemini", "model": "gemini-2.5-flash"}, "Gemini always needs a key: set api_key_env"),
        ({"provider": "openai", "model": "gpt-4o"}, "api.openai.com needs a key: set api_key_env"),
    ],
)
async def test_a_lane_that_needs_a_key_but_names_no_variable_is_not_ready(lane: dict[str, str], detail: str) -> None:
    from loopterm.lanes import Lane
    from loopterm.providers import make_provider
    from loopterm.providers.base import ErrorKind
    from loopterm.providers.readiness import readiness

    built = Lane(name="K", **lane)  # type: ignore[arg-type]
    state = await readiness(built)
    assert not state.ready and state.detail.startswith(detail)
    # The lane fails the same way when run, before sending anything.
    gen = await make_provider(built).generate([{"role": "user", "content": "hi"}])
    assert gen.error_kind is ErrorKind.MISSING_KEY and detail in (gen.error or "")


def test_check_imports_the_sdks_before_the_first_request(fake_server: FakeServer, tmp_path: Path) -> None:
    # A fresh interpreter: an SDK imported inside the gather would stall the other checks' clocks.
    lanes = tmp_path / "lanes.toml"
    lanes.write_text(lane_toml("A", f"ok~{uuid.uuid4().hex[:8]}", f"{fake_server.url}/v1"))
    script = f"""
import argparse, asyncio, sys
from pathlib import Path
from loopterm.commands import lanes as cmd
from loopterm.providers import readiness
seen = []
real_check = readiness.check
async def check(lane, timeout_s):
    seen.append("openai" in sys.modules and "loopterm.providers.openai_compat" in sys.modules)
    return await real_check(lane, timeout_s)
readiness.check = check
args = argparse.Namespace(names=["A"], lanes_file=Path({str(lanes)!r}), check=True, timeout=10.0, json=True)
rows, _in_file = cmd._rows(args)
asyncio.run(cmd._fill(rows, True, 10.0))
print(seen, rows[0]["check"]["ok"])
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == "[True] True", result.stdout + result.stderr
