"""A lane that cannot run here is refused before anything starts, naming what to do."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from loopterm.cli import main


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when this returns: nothing listens there


@pytest.mark.parametrize("command", ["race", "bench"])
def test_an_unreachable_local_server_stops_the_command_before_it_starts(
    command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{closed_port()}")
    traces = tmp_path / "traces"
    code = main([command, "ollama:qwen2.5-coder", "sim:mini", "--plain", "--trace-dir", str(traces)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1, err
    assert "lane 'qwen2.5-coder (ollama)' is not ready: cannot reach http://127.0.0.1:" in err
    assert "is the server running?" in err and "sim" not in err.split("is not ready")[0]
    assert not traces.exists() or not any(traces.iterdir())  # nothing ran, nothing was written
