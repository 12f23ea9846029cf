"""Ollama lanes with no base_url go where $OLLAMA_HOST says, as the ollama CLI does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.fakes.fixtures import FakeServer, running_fake_server
from support.fakes.models import ANSWER
from support.in_process import LoopTerm

from loopterm.lanes import OLLAMA_URL, LaneError, load_lanes_file, ollama_url, resolve
from loopterm.providers.base import ErrorKind
from loopterm.providers.ollama_native import OllamaProvider

pytestmark = pytest.mark.anyio
HI = [{"role": "user", "content": "hi"}]


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeServer]:
    yield from running_fake_server()


@pytest.mark.parametrize(
    ("value", "url"),
    [
        ("", OLLAMA_URL),
        ("0.0.0.0", "http://127.0.0.1:11434"),  # the server's listen-everywhere address
        ("gpu-box:8080", "http://gpu-box:8080"),
        ("gpu-box", "http://gpu-box:11434"),
        ("https://ollama.example/", "https://ollama.example"),
        ("[::1]:5000", "http://[::1]:5000"),
    ],
)
def test_ollama_host_is_read_like_the_ollama_cli(monkeypatch: pytest.MonkeyPatch, value: str, url: str) -> None:
    monkeypatch.setenv("OLLAMA_HOST", value)
    assert ollama_url() == url
    assert resolve("ollama:qwen2.5-coder").base_url == url


def test_a_bad_ollama_host_is_one_line_saying_how_to_set_it(
    monkeypatch: pytest.MonkeyPatch, loopterm_main: LoopTerm
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "http://")
    with pytest.raises(LaneError, match=r"^OLLAMA_HOST='http://' is not a host: set it like 127\.0\.0\.1:11434"):
        resolve("ollama:m")
    out = loopterm_main("lanes")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "loopterm: error: OLLAMA_HOST='http://' is not a host: set it like 127.0.0.1:11434 or "
        "http://host:11434, or unset it"
    ]


async def test_pairs_and_file_lanes_without_base_url_reach_ollama_host(
    fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", fake_server.url.removeprefix("http://"))
    pair = resolve("ollama:ok~ollama-host-pair")
    gen = await OllamaProvider(pair).generate(HI)
    assert gen.error is None and gen.text == ANSWER
    path = tmp_path / "lanes.toml"
    path.write_text('[[lanes]]\nname = "Mine"\nprovider = "ollama"\nmodel = "ok~ollama-host-file"\n')
    gen = await OllamaProvider(load_lanes_file(path)["Mine"]).generate(HI)
    assert gen.error is None and gen.text == ANSWER
    assert fake_server.recorder.hits["ok~ollama-host-file"] == 1


async def test_a_file_lane_fails_in_words_when_ollama_host_is_bad(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "lanes.toml"
    path.write_text('[[lanes]]\nname = "Mine"\nprovider = "ollama"\nmodel = "m"\n')
    lane = load_lanes_file(path)["Mine"]
    monkeypatch.setenv("OLLAMA_HOST", "http://")
    gen = await OllamaProvider(lane).generate(HI)
    assert gen.error_kind is ErrorKind.BAD_REQUEST
    assert (gen.error or "").startswith("Mine: OLLAMA_HOST='http://' is not a host")


def test_the_listing_probes_ollama_host(fake_server: FakeServer) -> None:
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}
    env["OLLAMA_HOST"] = fake_server.url
    out = subprocess.run(
        [sys.executable, "-m", "loopterm", "lanes", "--json"], capture_output=True, text=True, env=env, timeout=60
    )
    row = next(row for row in json.loads(out.stdout) if row["lane"] == "ollama:<model>")
    assert (row["ready"], row["base_url"]) == (True, fake_server.url)
    assert row["detail"] == f"server up at {fake_server.url}"
