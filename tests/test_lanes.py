from __future__ import annotations

from pathlib import Path

import pytest

from loopterm.lanes import PRESETS, LaneError, load_lanes_file, resolve

GOOD = """
[[lanes]]
name = "Mercury 2"
provider = "openai"
model = "mercury-2"
base_url = "https://api.inceptionlabs.ai/v1"
api_key_env = "INCEPTION_API_KEY"
class = "H/D"
price = { input = 0.25, output = 0.75 }
params = { reasoning_effort = "instant" }

[[lanes]]
name = "Local coder"
provider = "openai"
model = "qwen2.5-coder"
base_url = "http://127.0.0.1:8000/v1"
"""


def test_lanes_file_from_the_issue_loads(tmp_path: Path) -> None:
    path = tmp_path / "lanes.toml"
    path.write_text(GOOD)
    lanes = load_lanes_file(path)
    mercury = lanes["Mercury 2"]
    assert mercury.lane_class == "H/D"
    assert mercury.params == {"reasoning_effort": "instant"}
    assert mercury.cost(1_000_000, 1_000_000) == pytest.approx(1.0)
    assert lanes["Local coder"].price is None


def test_bad_field_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "lanes.toml"
    broken = '\n[[lanes]]\nname = "Broken"\nprovider = "openai"\nmodel = "x"\nprice = { input = "cheap", output = 1 }\n'
    path.write_text(GOOD + broken)
    with pytest.raises(LaneError) as err:
        load_lanes_file(path)
    message = str(err.value)
    assert f"{path}:22" in message  # the price line
    assert "'Broken'" in message and "price.input" in message


def test_unknown_provider_and_toml_syntax(tmp_path: Path) -> None:
    path = tmp_path / "lanes.toml"
    path.write_text('[[lanes]]\nname = "x"\nprovider = "carrier-pigeon"\nmodel = "m"\n')
    with pytest.raises(LaneError, match="field 'provider'"):
        load_lanes_file(path)
    path.write_text("[[lanes]\nname=")
    with pytest.raises(LaneError, match="not valid TOML"):
        load_lanes_file(path)


def test_resolution_order_and_errors(tmp_path: Path) -> None:
    assert resolve("mercury-2").model == "mercury-2"
    assert resolve("mercury-2") is not PRESETS["mercury-2"]  # callers may change their copy
    assert resolve("ollama:llama3.2").provider == "ollama"
    assert resolve("sim:frontier").simulated
    path = tmp_path / "lanes.toml"
    path.write_text(GOOD)
    file_lanes = load_lanes_file(path)
    assert resolve("Local coder", file_lanes).base_url == "http://127.0.0.1:8000/v1"
    with pytest.raises(LaneError, match="unknown lane 'nope'"):
        resolve("nope")
    with pytest.raises(LaneError, match="unknown simulated profile"):
        resolve("sim:genius")


def test_lane_info_holds_no_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INCEPTION_API_KEY", "sk-very-secret-123")
    info = resolve("mercury-2").info("mercury-2")
    assert "sk-very-secret-123" not in info.model_dump_json()
    assert info.api_key_env == "INCEPTION_API_KEY"
