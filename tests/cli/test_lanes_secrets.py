"""Secrets a user puts in a lanes file never reach a trace, a message or a listing."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.fakes.fixtures import FakeServer, running_fake_server
from support.fakes.server import closed_port_url
from support.in_process import LoopTerm
from support.shared_sandbox import SharedSandbox

from loopterm.events import LaneDone
from loopterm.lanes import load_lanes_file
from loopterm.loop.race import RaceConfig, run_race
from loopterm.providers import retry
from loopterm.tasks import find_task
from loopterm.traces.writer import TraceWriter

pytestmark = pytest.mark.anyio

URL_SECRET = "tok-URL-SECRET-77c1"
QUERY_SECRET = "q-QUERY-SECRET-91ab"
ENV_SECRET = "sk-ENVKEY-SECRET-4f2e9b"


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeServer]:
    yield from running_fake_server()


def lanes_text(server_url: str) -> str:
    host = server_url.removeprefix("http://")
    closed = closed_port_url().removeprefix("http://")
    return f"""
[[lanes]]
name = "Passes"
provider = "openai"
model = "reference~secrets"
base_url = "http://user:{URL_SECRET}@{host}/v1"

[[lanes]]
name = "Broken"
provider = "openai"
model = "always-500~secrets"
base_url = "http://user:{URL_SECRET}@{host}/v1"
max_retries = 1

[[lanes]]
name = "Gone"
provider = "ollama"
model = "m"
base_url = "http://admin:{URL_SECRET}@{closed}/?key={QUERY_SECRET}"
max_retries = 0
"""


async def test_url_credentials_never_reach_the_trace(
    tmp_path: Path, fake_server: FakeServer, sandbox: SharedSandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retry, "DEFAULT_BACKOFF", retry.Backoff(base_s=0.01, cap_s=0.02))
    # Two more lanes send a real key from the environment: one passes, one is refused (401).
    monkeypatch.setenv("LOOPTERM_SECRETS_KEY", ENV_SECRET)
    keyed = "".join(
        f'\n[[lanes]]\nname = "{name}"\nprovider = "openai"\nmodel = "{model}"\n'
        f'base_url = "{fake_server.url}/v1"\napi_key_env = "LOOPTERM_SECRETS_KEY"\n'
        for name, model in (("Keyed", "reference~keyed"), ("Refused", "unauthorized~keyed"))
    )
    path = tmp_path / "lanes.toml"
    path.write_text(lanes_text(fake_server.url) + keyed)
    lanes = list(load_lanes_file(path).values())
    events: list = []
    writer = TraceWriter(tmp_path / "traces")
    await run_race(
        lanes,
        RaceConfig(max_turns=1, seed=1),
        [writer, events.append],
        task=find_task("quote-approval"),
        validator=sandbox,
    )
    assert writer.folder is not None
    done = {e.lane: e for e in events if isinstance(e, LaneDone)}
    # The lanes really ran against the credentialed URLs (the request still uses them) ...
    assert done["passes"].outcome.value == "PASS", done["passes"].reason
    assert "server error 500 at http://***@127.0.0.1" in (done["broken"].reason or "")
    assert "cannot reach http://***@127.0.0.1" in (done["gone"].reason or "")
    assert done["keyed"].outcome.value == "PASS", done["keyed"].reason
    assert "refused the API key (401)" in (done["refused"].reason or "")
    headers = fake_server.recorder.requests["unauthorized~keyed"][0]["headers"]
    assert headers["authorization"] == f"Bearer {ENV_SECRET}"  # the key really was sent
    # ... and no file of the trace holds either secret.
    files = [p for p in writer.folder.rglob("*") if p.is_file()]
    assert files
    for file in files:
        text = file.read_text(errors="replace")
        assert URL_SECRET not in text and QUERY_SECRET not in text, file
        assert ENV_SECRET not in text and ENV_SECRET[:10] not in text, file


def test_lanes_listing_masks_url_credentials(tmp_path: Path, fake_server: FakeServer) -> None:
    path = tmp_path / "lanes.toml"
    path.write_text(lanes_text(fake_server.url))
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    for args in (["--json"], ["--check", "Broken", "Gone"]):
        result = subprocess.run(
            [sys.executable, "-m", "loopterm", "lanes", "--lanes", str(path), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert URL_SECRET not in result.stdout + result.stderr
        assert QUERY_SECRET not in result.stdout + result.stderr
        assert "***@127.0.0.1" in result.stdout


@pytest.mark.parametrize(
    "value",
    ["sk-proj-Abc123SECRETdef456", "AIzaSyA1SECRETb2c3d4e5f6g7h8", "sk_live_SECRET12345", "a8F3kQ9zSECRETx7Lm2Pq4"],
)
def test_a_key_pasted_as_api_key_env_is_refused_without_repeating_it(
    tmp_path: Path, value: str, loopterm_main: LoopTerm
) -> None:
    # api_key_env is shown in messages and listings and stored in traces:
    # the key in its place would leak everywhere, so the file is refused.
    path = tmp_path / "lanes.toml"
    path.write_text(f'[[lanes]]\nname = "X"\nprovider = "openai"\nmodel = "m"\napi_key_env = "{value}"\n')
    out = loopterm_main("lanes", "--lanes", str(path), "X")
    assert out.returncode == 2
    (line,) = out.stderr.strip().splitlines()
    assert line.startswith(f"loopterm: error: {path}:5: lane 'X': field 'api_key_env': is not an environment")
    assert "SECRET" not in out.stdout + out.stderr


@pytest.mark.parametrize("value", ["OPENAI_API_KEY", "my_proxy_key", "AZURE_OPENAI_KEY_2", "INCEPTION_API_KEY"])
def test_ordinary_variable_names_are_accepted(tmp_path: Path, value: str) -> None:
    path = tmp_path / "lanes.toml"
    path.write_text(f'[[lanes]]\nname = "X"\nprovider = "openai"\nmodel = "m"\napi_key_env = "{value}"\n')
    assert load_lanes_file(path)["X"].api_key_env == value
