"""``--fps N``: the viewer's repaint rate, for slow links. Parsed by race, bench and replay, honoured by the app."""

from __future__ import annotations

from pathlib import Path

import pytest
from support.in_process import LoopTerm
from support.tui_pilot import app_for

from loopterm.tui import DEFAULT_FPS
from loopterm.tui.screens.race import RaceScreen

COMMANDS = ["race", "bench", "replay"]


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("value", ["0", "61", "x", "2.5", "-3", ""])
def test_a_bad_fps_is_one_line_and_exit_2(command: str, value: str, tmp_path: Path, loopterm_main: LoopTerm) -> None:
    out = loopterm_main(command, "--fps", value, "--trace-dir", str(tmp_path))
    assert out.returncode == 2
    assert "--fps" in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    assert not any(tmp_path.iterdir())  # nothing started


@pytest.mark.parametrize("command", COMMANDS)
def test_help_explains_fps(command: str, loopterm_main: LoopTerm) -> None:
    text = " ".join(loopterm_main(command, "--help").stdout.split())  # as read, not as wrapped
    assert "--fps N the viewer repaints at most N times a second" in text
    assert f"(default {DEFAULT_FPS}, at most 60)" in text and "slow link" in text


class FakeApp:
    def __init__(self) -> None:
        self.events: list = []
        self.source_error = None

    def run(self) -> int:
        return 0


@pytest.mark.parametrize(("args", "fps"), [([], DEFAULT_FPS), (["--fps", "5"], 5), (["--fps", "60"], 60)])
def test_race_and_bench_hand_the_rate_to_the_viewer(
    args: list[str], fps: int, tmp_path: Path, loopterm_main: LoopTerm, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, int | None] = {}

    def run_live(lanes, config, task, root, *, theme=None, fps=None) -> int:
        seen["race"] = fps
        return 0

    def make_bench_app(source, *, fps=None, **kwargs) -> FakeApp:
        seen["bench"] = fps
        return FakeApp()

    def run_replay_app(source, controls, theme=None, *, fps=None, **kwargs) -> int:
        seen["replay"] = fps
        return 0

    recorded = loopterm_main(
        "race",
        "sim:fast-diffusion",
        "--plain",
        "--time-scale",
        "0",
        "--max-turns",
        "1",
        "--trace-dir",
        str(tmp_path / "recorded"),
    )
    assert recorded.returncode == 0, recorded.stderr
    for command in COMMANDS:  # as on a terminal: the viewer, not plain lines
        monkeypatch.setattr(f"loopterm.commands.{command}.use_plain", lambda args: False)
    monkeypatch.setattr("loopterm.tui.launch.run_live", run_live)
    monkeypatch.setattr("loopterm.tui.launch.run_replay_app", run_replay_app)
    monkeypatch.setattr("loopterm.tui.screens.bench_summary.make_bench_app", make_bench_app)
    for command in ("race", "bench"):
        out = loopterm_main(command, *args, "--trace-dir", str(tmp_path))
        assert out.returncode == 0, out.stderr
    out = loopterm_main("replay", *args, "--trace-dir", str(tmp_path / "recorded"))
    assert out.returncode == 0, out.stderr
    assert seen == {"race": fps, "bench": fps, "replay": fps}


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("fps", "news_s", "tick_s"), [(None, 0.04, 0.1), (50, 0.02, 0.1), (5, 0.2, 0.2), (1, 1.0, 1.0)]
)
async def test_the_app_repaints_at_most_fps_times_a_second(fps: int | None, news_s: float, tick_s: float) -> None:
    """News waits at least 1/fps after the last news repaint; the timers tick at 10 Hz, slower below 10 fps."""
    app, _ = app_for(fps=fps)
    assert app.news_s == pytest.approx(news_s)
    async with app.run_test(size=(80, 24)):
        screen = app.screen
        assert isinstance(screen, RaceScreen)
        assert screen.tick_s == pytest.approx(tick_s)
