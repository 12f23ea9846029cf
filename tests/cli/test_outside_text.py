"""Text from outside never reaches the terminal as control characters, on every surface that shows it.

A model's answer, a candidate's output and check messages, a provider's error,
a lane's name from a lanes file and a trace's ids all carry the same payload
here: an OSC 52 clipboard write, a screen clear, a CR that would print PASS
over FAIL, the one-byte C1 CSI, a bidi override and rich markup. Each surface
must show it with the escapes made visible (``^[``) and print none of it raw;
the trace itself keeps the raw text.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from support.bench_events import Run
from support.bench_events import race as bench_race
from support.event_builders import LaneEvents, in_time_order, lane_info, race_started, validation_result
from support.fakes.server import serve
from support.in_process import Ran, run_main
from support.paths import CANDIDATES
from support.trace_helpers import write_trace
from support.tui_pilot import app_for, panes, until
from textual.widgets import DataTable, Static

from loopterm.cli import main
from loopterm.events import CheckResult, Event, LaneDone, Outcome, RaceDone, TokenUsage, TurnStatus
from loopterm.plain.race import PlainPrinter
from loopterm.plain.replay import plain_printer
from loopterm.tui.app import make_app
from loopterm.tui.screens.lane_detail import LaneDetailScreen
from loopterm.tui.screens.summary import SummaryScreen
from loopterm.tui.widgets.code_view import CodeView
from loopterm.tui.widgets.race_header import RaceHeader

OSC52 = "\x1b]52;c;aGk=\x07"  # put "hi" on the clipboard
CLEAR = "\x1b[2J"
PAYLOAD = f"{OSC52}{CLEAR}FAIL\rPASS \x9b2J \u202eSSAP [red]x[/red]"
# What must never be printed: ESC, BEL, the C1 CSI, CR (outside a CRLF) and the bidi override.
RAW = ("\x1b", "\x07", "\x9b", "\r", "\u202e")
SHOWN_OSC52 = "^[]52;c;aGk=^G"
SHOWN_CLEAR = "^[[2J"
SHOWN_PAYLOAD = f"{SHOWN_OSC52}{SHOWN_CLEAR}FAIL^MPASS \\x9b2J <U+202E>SSAP [red]x[/red]"
# A plain line: the lane's name is on the line already, so the reason goes without its copy of it.
SHOWN_ERROR = f"ERROR: server error 500 at http://127.0.0.1:9/v1: {SHOWN_PAYLOAD}"

RACE_ID = "20261122-101500-e5c4"
EVIL_NAME = f"Evil{OSC52} lane [red]x[/red]"
TASK_ID = f"mini{CLEAR}"


def raw_controls(text: str) -> list[str]:
    """The raw control characters in ``text`` (to assert there are none)."""
    return sorted({repr(ch) for ch in text if ch in RAW})


def assert_shown_safely(text: str, *visible_parts: str) -> None:
    """No raw control character in ``text``, and each of ``visible_parts`` in it."""
    leaked = raw_controls(text)
    at = min((text.find(ch) for ch in RAW if ch in text), default=0)
    assert leaked == [], f"{leaked} printed raw: ...{text[max(0, at - 80) : at + 80]!r}..."
    for part in visible_parts:
        assert part in text, f"{part!r} not shown in {text[:2000]!r}"


def hostile_race(race_id: str = RACE_ID) -> list[Event]:
    """Two lanes: one whose answer, code, check messages and feedback carry the payload, one whose
    provider failed with it. The lane's name, its model and the task id carry escapes too."""
    evil = lane_info("evil", EVIL_NAME, f"model{CLEAR}", "H/AR", simulated=False)
    broken = lane_info("broken", "Broken", "b", "L/AR", simulated=False)
    start = race_started([evil, broken], race_id=race_id, task_id=TASK_ID, max_turns=1)

    track = LaneEvents("evil", 0.01)
    track.turn_started(0.02, 1)
    track.generation(
        0.5,
        1,
        text=f"```python\n# {PAYLOAD}\napp = None\n```",
        ttft_s=0.1,
        generation_s=0.4,
        usage=TokenUsage(prompt=100, completion=50),
    )
    checks = [
        CheckResult(
            id="hello",
            group="logic",
            description="GET /hello says hello",
            passed=False,
            message=f"GET /hello: expected msg hello, got {PAYLOAD}",
            duration_ms=1.0,
        ),
        CheckResult(
            id="echo",
            group="shape",
            description="POST /echo returns the body",
            passed=True,
            message="",
            duration_ms=1.0,
        ),
    ]
    result = validation_result("mini", checks, duration_ms=20.0)
    track.validation(
        0.8, 1, code=f"# {PAYLOAD}\napp = None\n", result=result, feedback=f"1/2 checks pass.\n- hello: {PAYLOAD}"
    )
    track.turn_done(
        0.81, 1, TurnStatus.PARTIAL, 0.5, 1, 2, failing={"hello"}, model_s=0.5, validation_s=0.3, harness_s=0.01
    )
    evil_events = track.lane_done(
        0.82, Outcome.TURN_LIMIT, "turn limit of 1 reached", turns=1, time_to_pass_s=None, final_score=0.5
    )

    failing = LaneEvents("broken", 0.02)
    failing.turn_started(0.03, 1)
    reason = f"Broken: server error 500 at http://127.0.0.1:9/v1: {PAYLOAD}"
    failing.generation(0.3, 1, text="", ttft_s=None, generation_s=0.2, error=reason, error_kind="server_error")
    failing.turn_done(0.31, 1, TurnStatus.ERROR, 0.0, 0, 2, model_s=0.3, validation_s=0.0, harness_s=0.001)
    broken_events = failing.lane_done(0.32, Outcome.ERROR, reason, turns=1, time_to_pass_s=None, final_score=0.0)

    body = in_time_order([evil_events, broken_events])
    return [start, *body, RaceDone(t=0.9)]


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "traces"


# -- the plain printers ----------------------------------------------------------------------------------


def test_the_plain_race_printer_shows_names_ids_and_errors_safely() -> None:
    buffer = io.StringIO()
    printer = PlainPrinter(Console(file=buffer, width=200, highlight=False))
    for event in hostile_race():
        printer(event)
    out = buffer.getvalue()
    assert_shown_safely(out, f"task mini{SHOWN_CLEAR}", f"Evil{SHOWN_OSC52} lane [red]x[/red]", SHOWN_ERROR)
    caption = [line for line in out.splitlines() if line.startswith("Broken: ")]
    assert caption and SHOWN_OSC52 in caption[0]  # the results table's ERROR line


def test_the_bench_progress_printer_and_table_show_names_and_reasons_safely() -> None:
    events = bench_race(
        [
            Run("evil-r01", [0.5], outcome="ERROR", name=EVIL_NAME, provider="openai"),
            Run("evil-r02", [1.0], name=EVIL_NAME, provider="openai"),
        ]
    )
    events = [
        e.model_copy(update={"reason": PAYLOAD}) if isinstance(e, LaneDone) and e.lane == "evil-r01" else e
        for e in events
    ]
    buffer = io.StringIO()
    printer = plain_printer(events[0], Console(file=buffer, width=200, highlight=False))  # as `bench --plain`
    for event in events:
        printer(event)
    out = buffer.getvalue()
    assert_shown_safely(
        out,
        f"Evil{SHOWN_OSC52} lane [red]x[/red]",
        f"ERROR: {SHOWN_OSC52}{SHOWN_CLEAR}FAIL^MPASS",
        "ERROR run not counted (^[]52;c;aGk=^G",
    )


# -- stored races: replay, report, export, the listing ---------------------------------------------------------


def test_replay_plain_shows_the_trace_safely_and_the_trace_keeps_the_raw_text(
    root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = write_trace(root, hostile_race())
    recorded = "".join(path.read_text(encoding="utf-8") for path in sorted(folder.glob("*.jsonl")))
    assert "\\u001b]52;c;aGk=\\u0007" in recorded  # the trace has the raw text, JSON-escaped

    assert main(["replay", "--plain", "--speed", "50", "--trace-dir", str(root)]) == 0
    out, err = capsys.readouterr()
    assert_shown_safely(out + err, f"task mini{SHOWN_CLEAR}", f"Evil{SHOWN_OSC52} lane", SHOWN_ERROR)


def test_report_in_every_format_prints_no_control_character(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_trace(root, hostile_race())
    for fmt in ("table", "md", "csv", "json"):
        assert main(["report", "--format", fmt, "--trace-dir", str(root)]) == 0
        out, err = capsys.readouterr()
        assert raw_controls(out + err) == [], fmt
        if fmt == "json":  # JSON escapes them itself, and keeps the raw text for scripts
            rows = {row["lane"]: row for row in json.loads(out)["rows"]}
            assert EVIL_NAME in rows
        else:
            assert f"Evil{SHOWN_OSC52} lane [red]x[/red]" in out, fmt
    assert main(["report", "--format", "table", "--trace-dir", str(root)]) == 0
    table = capsys.readouterr().out
    assert f"mini{SHOWN_CLEAR}" in table  # the task id, from the trace
    shown = " ".join(table.split())  # the notes wrap at the table's width
    assert f"ERROR run not counted (Broken: server error 500 at http://127.0.0.1:9/v1: {SHOWN_OSC52}" in shown


def test_the_exported_cast_plays_no_escape_sequence_from_the_race(root: Path, tmp_path: Path) -> None:
    write_trace(root, hostile_race())
    cast = tmp_path / "race.cast"
    assert main(["export", "--trace-dir", str(root), "-o", str(cast)]) == 0
    header, *frames = [json.loads(line) for line in cast.read_text(encoding="utf-8").splitlines()]
    assert_shown_safely(header["title"], f"mini{SHOWN_CLEAR}")
    played = "".join(data for _t, _kind, data in frames)
    # rich's own colours are escape sequences too (the cast is played in a terminal): only the race's must not be.
    for sequence in (OSC52, CLEAR, "\x07", "\x9b", "\u202e", "FAIL\r"):
        assert sequence not in played
    assert f"Evil{SHOWN_OSC52} lane" in played and "ERROR: server error 500" in played
    assert f"{SHOWN_OSC52}{SHOWN_CLEAR}FAIL^MPASS" in played


def test_the_traces_listing_shows_a_race_json_safely(root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_trace(root, hostile_race())
    assert main(["traces", "--trace-dir", str(root)]) == 0
    out, err = capsys.readouterr()
    assert_shown_safely(out + err, "mini^[")


# -- validate: a real candidate in the sandbox -----------------------------------------------------------------

MINI = ["--task", "mini", "--task-dir", str(CANDIDATES / "task")]

LOUD_APP = r"""
from fastapi import FastAPI
from fastapi.responses import PlainTextResponse

print("\x1b]52;c;aGk=\x07\x1b[2J\x1b]0;pwned\x07")

app = FastAPI()


@app.get("/hello")
async def hello():
    return {"msg": "hello"}


@app.post("/echo")
async def echo():
    # Not JSON, so the check quotes it raw: a screen clear and a fake green PASS.
    return PlainTextResponse("\x1b[2J\x1b[H\x1b[32mPASS 3/3\x1b[0m \x9b2J \u202eSSAP [green]PASS", status_code=500)
"""

RAISING = r"""
print("\x1b]52;c;aGk=\x07\x1b[2J")
raise RuntimeError("\x1b[2J\x1b[32mall checks PASS\x1b[0m")
"""


@pytest.fixture
def validate(
    capfdbinary: pytest.CaptureFixture[bytes], monkeypatch: pytest.MonkeyPatch
) -> Callable[[Path], Ran[bytes]]:
    """``loopterm validate`` (in this process) as a terminal would get it: the bytes, unchanged."""

    def run(path: Path) -> Ran[bytes]:
        return run_main(capfdbinary, monkeypatch, ["validate", str(path), *MINI], env={"COLUMNS": "200"})

    return run


def test_validate_shows_a_failing_checks_message_safely(tmp_path: Path, validate: Callable[[Path], Ran[bytes]]) -> None:
    candidate = tmp_path / "loud_app.py"
    candidate.write_text(LOUD_APP, encoding="utf-8")
    out = validate(candidate)
    assert out.returncode == 1, out.stderr
    text = (out.stdout + out.stderr).decode("utf-8")
    assert_shown_safely(text, "POST /echo: got 500 ^[[2J^[[H^[[32mPASS 3/3^[[0m \\x9b2J <U+202E>SSAP [green]PASS")
    assert text.startswith("PARTIAL")


def test_validate_shows_an_import_error_and_the_output_safely(
    tmp_path: Path, validate: Callable[[Path], Ran[bytes]]
) -> None:
    candidate = tmp_path / "raising.py"
    candidate.write_text(RAISING, encoding="utf-8")
    out = validate(candidate)
    assert out.returncode == 1, out.stderr
    text = (out.stdout + out.stderr).decode("utf-8")
    assert_shown_safely(
        text, "did not load: raised RuntimeError", "^[[2J^[[32mall checks PASS^[[0m", f"  {SHOWN_OSC52}{SHOWN_CLEAR}"
    )


# -- lanes: a lanes file's names, a server's error ----------------------------------------------------------------


Message = dict[str, Any]


async def _hostile_openai(
    scope: Message, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]
) -> None:
    """An OpenAI-compatible server whose every answer is a 500 with the payload as its message."""
    assert scope["type"] == "http"
    body = json.dumps({"error": {"message": PAYLOAD, "type": "server_error", "code": None}}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
def hostile_server() -> Iterator[str]:
    with serve(_hostile_openai) as url:
        yield url


def lanes(*args: str) -> tuple[int, str]:
    """``loopterm lanes`` in a child (an in-process --check leaves the SDK's sockets to a closed
    loop): its exit code and the text a terminal would get, stdout then stderr."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and k != "OLLAMA_HOST"}
    out = subprocess.run(
        [sys.executable, "-m", "loopterm", "lanes", *args],
        capture_output=True,
        timeout=60,
        env=env | {"COLUMNS": "100"},
    )  # narrow: the error wraps under its lane
    return out.returncode, (out.stdout + out.stderr).decode("utf-8")


def test_lanes_check_shows_the_name_and_the_servers_error_safely(hostile_server: str, tmp_path: Path) -> None:
    path = tmp_path / "lanes.toml"
    path.write_text(
        '[[lanes]]\nname = "Evil\\u001b]52;c;aGk=\\u0007 lane"\nprovider = "openai"\n'
        f'model = "m\\u001b[2J"\nbase_url = "{hostile_server}/v1"\nclass = "L/AR"\n',
        encoding="utf-8",
    )
    name = f"Evil{OSC52} lane"
    code, text = lanes("--lanes", str(path), name)
    assert code == 0, text  # listed: ready, not checked
    assert_shown_safely(text, f"Evil{SHOWN_OSC52} lane", f"m{SHOWN_CLEAR}")

    code, text = lanes("--lanes", str(path), "--check", name)
    assert code == 1, text  # the check failed
    assert_shown_safely(text, f"Evil{SHOWN_OSC52} lane", "server_error")
    # (the provider puts a server's message on one line: the CR is a space by then)
    shown = " ".join(text.split())  # the DETAIL wraps under the lane
    assert f"server error 500 at {hostile_server}/v1: {SHOWN_OSC52}{SHOWN_CLEAR}FAIL PASS \\x9b2J <U+202E>SSAP" in shown

    code, text = lanes("--lanes", str(path), "--check", "--json", name)
    assert code == 1, text
    assert raw_controls(text) == []  # JSON escapes them, and keeps the raw text for scripts
    assert f"{OSC52}{CLEAR}FAIL" in json.loads(text)[0]["check"]["error"]


# -- the viewer ------------------------------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_viewer_shows_panes_detail_feedback_and_summary_safely() -> None:
    app, source = app_for(hostile_race())
    async with app.run_test(size=(140, 40)) as pilot:
        await source.finished.wait()
        shown = panes(app)
        await until(pilot, lambda: all(p.lane is not None and p.lane.done and p.lines for p in shown.values()))
        evil, broken = shown["evil"], shown["broken"]
        await until(pilot, lambda: any("expected msg hello" in line for line in evil.lines))
        assert_shown_safely("\n".join(evil.lines), f"model{SHOWN_CLEAR}", f"expected msg hello, got {SHOWN_OSC52}")
        # the reason wraps over the pane's free rows
        assert_shown_safely(" ".join(broken.lines), f"ERROR: server error 500 at http://127.0.0.1:9/v1: {SHOWN_OSC52}")
        assert_shown_safely(str(evil.border_title), f"Evil{SHOWN_OSC52}")
        assert "x" in str(evil.border_title) and "[red]" in str(evil.border_title)  # markup shown, not obeyed
        header = app.screen.query_one(RaceHeader)
        await until(pilot, lambda: "finished" in header.text)
        assert_shown_safely(header.text, f"mini{SHOWN_CLEAR}")
        assert_shown_safely(app.export_screenshot(), "^[]52;c;aGk=^G")  # the SVG screenshot (`p`)

        app.action_open_lane("evil")
        await until(pilot, lambda: isinstance(app.screen, LaneDetailScreen))
        await pilot.pause()
        title = str(app.screen.query_one("#detail-title", Static).content)
        assert_shown_safely(title, f"Evil{SHOWN_OSC52} lane [red]x[/red]", f"model{SHOWN_CLEAR}")
        code = app.screen.query_one(CodeView)
        assert code.numbered
        assert_shown_safely(code.code, f"# {SHOWN_OSC52}{SHOWN_CLEAR}FAIL^MPASS \\x9b2J <U+202E>SSAP")
        await pilot.press("2")
        feedback = str(app.screen.query_one("#feedback", Static).content)
        assert_shown_safely(feedback, f"- hello: {SHOWN_OSC52}{SHOWN_CLEAR}FAIL^MPASS", "1/2 checks pass.\n")
        assert_shown_safely(app.export_screenshot(), "^[]52;c;aGk=^G")

        await pilot.press("escape")
        app.action_open_lane("broken")
        await until(pilot, lambda: isinstance(app.screen, LaneDetailScreen) and app.screen.run_id == "broken")
        await pilot.pause()
        reason = str(app.screen.query_one("#detail-reason", Static).content)
        assert_shown_safely(reason, f"ERROR: server error 500 at http://127.0.0.1:9/v1: {SHOWN_OSC52}")

        app.action_summary()
        await until(pilot, lambda: isinstance(app.screen, SummaryScreen))
        await pilot.pause()
        table = app.screen.query_one("#results", DataTable)
        cells = " | ".join(str(cell) for i in range(table.row_count) for cell in table.get_row_at(i))
        assert_shown_safely(cells, f"Evil{SHOWN_OSC52} lane [red]x[/red]")  # markup as text: a str cell obeys it
        caption = str(app.screen.query_one("#summary-caption", Static).content)
        assert_shown_safely(caption, f"Broken: server error 500 at http://127.0.0.1:9/v1: {SHOWN_OSC52}")
        assert_shown_safely(str(app.screen.query_one("#summary-title", Static).content), f"mini{SHOWN_CLEAR}")
        assert_shown_safely(app.export_screenshot(), "^[]52;c;aGk=^G")


class _FailingSource:
    live = True

    async def run(self, sink: Callable[[Event], None]) -> None:
        raise RuntimeError(f"the engine broke: {PAYLOAD}")


@pytest.mark.anyio
async def test_the_viewers_error_toast_shows_the_error_safely() -> None:
    app = make_app(_FailingSource(), now=lambda: 0.0)  # type: ignore[arg-type]
    app.animation_level = "none"
    async with app.run_test(size=(100, 30)) as pilot:
        await until(pilot, lambda: app.source_error is not None and bool(app.notices))
        await pilot.pause()
        assert_shown_safely(app.notices[-1], f"the engine broke: {SHOWN_OSC52}{SHOWN_CLEAR}FAIL^MPASS")
