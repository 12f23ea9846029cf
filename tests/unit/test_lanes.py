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


def one_lane(body: str) -> str:
    return f'[[lanes]]\nname = "X"\nprovider = "openai"\nmodel = "m"\n{body}'


def load_error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "lanes.toml"
    path.write_text(text)
    with pytest.raises(LaneError) as err:
        load_lanes_file(path)
    message = str(err.value)
    assert "\n" not in message
    return message.replace(str(path), "lanes.toml")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A typo in the table name used to load an empty file and exit 0.
        ('[[lane]]\nname = "X"\n', "lanes.toml:1: unknown table or key 'lane'"),
        (one_lane("") + 'colour = "blue"\n[extra]\nx = 1\n', "lanes.toml:6: unknown table or key 'extra'"),
        ('default = "X"\n' + one_lane(""), "lanes.toml:1: unknown table or key 'default'"),
    ],
)
def test_unknown_top_level_tables_and_keys_are_named(tmp_path: Path, text: str, expected: str) -> None:
    assert load_error(tmp_path, text).startswith(expected)


@pytest.mark.parametrize(
    ("body", "line", "field"),
    [
        ('price.input = "x"\nprice.output = 1\n', 5, "price.input"),
        ('[lanes.price]\noutput = 1\ninput = "x"\n', 7, "price.input"),
        ('price = { input = "x", output = 1 }\n', 5, "price.input"),
        ("timeout_s = 30\n[lanes.params]\ntemperature = 0\n[lanes.price]\ninput = -1\noutput = 1\n", 9, "price.input"),
    ],
)
def test_a_bad_nested_field_reports_its_own_line(tmp_path: Path, body: str, line: int, field: str) -> None:
    message = load_error(tmp_path, one_lane(body))
    assert message.startswith(f"lanes.toml:{line}: lane 'X': field '{field}'"), message


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('class = "fast"\n', "lanes.toml:5: lane 'X': field 'class': 'fast' is not a class: use one of H/AR"),
        ('base_url = "not a url"\n', "lanes.toml:5: lane 'X': field 'base_url': 'not a url' is not a URL"),
        ('base_url = "ftp://host/x"\n', "field 'base_url': 'ftp://host/x' is not a URL"),
    ],
)
def test_class_and_base_url_are_checked(tmp_path: Path, body: str, expected: str) -> None:
    assert expected in load_error(tmp_path, one_lane(body))


@pytest.mark.parametrize(
    ("body", "line", "name"),
    [
        ('params = { api_key = "sk-live-123456" }\n', 5, "api_key"),
        ('[lanes.params]\ntemperature = 0\nToken = "t-123456"\n', 7, "Token"),
        ('params.extra_headers = { Authorization = "Bearer t-123456" }\n', 5, "extra_headers.Authorization"),
        ('params = { client_secret = "s" }\n', 5, "client_secret"),
    ],
)
def test_a_secret_in_params_is_refused_with_the_fix(tmp_path: Path, body: str, line: int, name: str) -> None:
    message = load_error(tmp_path, one_lane(body))
    assert message.startswith(f"lanes.toml:{line}: lane 'X': param '{name}'"), message
    assert "api_key_env" in message
    assert "123456" not in message


def test_ordinary_params_that_mention_tokens_still_load(tmp_path: Path) -> None:
    path = tmp_path / "lanes.toml"
    path.write_text(one_lane('params = { max_tokens = 64, max_completion_tokens = 64, prompt_cache_key = "k" }\n'))
    assert load_lanes_file(path)["X"].params["max_tokens"] == 64


def test_lane_info_masks_url_credentials_and_drops_key_like_params() -> None:
    lane = resolve("mercury-2").model_copy(
        update={
            "base_url": "https://user:tok-SECRET-9@proxy.example/v1?key=SECRET-Q&x=1",
            "params": {"api_key": "SECRET-P", "reasoning_effort": "instant"},
        }
    )
    info = lane.info("r").model_dump_json()
    assert "SECRET" not in info
    assert "https://***@proxy.example/v1?key=***&x=1" in info and "instant" in info


def test_a_sim_lane_with_an_unknown_profile_is_refused_where_the_file_says_it(tmp_path: Path) -> None:
    path = tmp_path / "lanes.toml"
    path.write_text('[[lanes]]\nname = "Turbo"\nprovider = "sim"\n\nmodel = "turbo"\n')
    with pytest.raises(LaneError) as caught:
        load_lanes_file(path)
    assert str(caught.value) == (
        f"{path}:5: lane 'Turbo': field 'model': unknown simulated profile 'turbo'; "
        "choose one of fast-diffusion, frontier, mini, weak-local"
    )


def test_a_lanes_file_that_is_not_utf8_is_one_line_naming_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "lanes.toml"
    path.write_bytes(b'[[lanes]]\nname = "caf\xe9"\nprovider = "sim"\nmodel = "mini"\n')
    with pytest.raises(LaneError) as caught:
        load_lanes_file(path)
    assert str(caught.value) == f"{path}: not UTF-8 text (byte 21 is b'\\xe9'); save the file as UTF-8"
