"""What the trace reader skipped is shown in the replay viewer, not only on a stderr the full screen hides."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from support.pty_helpers import drain, read_until
from support.trace_helpers import hand_race, write_trace
from support.tui_pilot import until
from textual.widgets._toast import Toast

from loopterm.traces.reader import read_race
from loopterm.traces.replay import ReplaySource
from loopterm.tui.launch import replay_app


def damaged(root: Path) -> Path:
    folder = write_trace(root, [e.model_copy(update={"t": e.t * 4}) for e in hand_race()])
    lane = folder / "slow.jsonl"
    lines = lane.read_text().splitlines()
    lines[3] = "{not json"
    lane.write_text("\n".join(lines) + "\n")
    return folder


@pytest.mark.anyio
async def test_the_viewer_shows_the_skipped_parts_as_toasts(tmp_path: Path) -> None:
    trace = read_race(damaged(tmp_path))
    assert trace.warnings == ["slow.jsonl:4: damaged line skipped"]
    source = ReplaySource(trace, 50, hold_at_end=True)
    app = replay_app(source, source, trace_folder=trace.folder, notices=trace.warnings, stop_on_signals=False)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await pilot.pause()
        assert app.notices == ["slow.jsonl:4: damaged line skipped"]
        await until(pilot, lambda: bool(app.screen.query(Toast)))
        toasts = [str(toast.render()) for toast in app.screen.query(Toast)]
        assert any("slow.jsonl:4: damaged line skipped" in text for text in toasts)


def test_on_a_terminal_the_warning_is_on_screen_and_printed_after(tmp_path: Path) -> None:
    root = tmp_path / "traces"
    damaged(root)
    master, slave = pty.openpty()
    env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "120", "LINES": "40"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "loopterm", "replay", "--trace-dir", str(root)],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        close_fds=True,
    )
    os.close(slave)
    try:
        before = read_until(master, b"REPLAY", 60)  # the viewer is up
        # not printed before the viewer takes the screen (into what it hides)...
        assert b"damaged line" not in before.split(b"\x1b[?1049h", 1)[0]
        if b"damaged line skipped" not in before:  # ...but drawn as a toast on the viewer's screen
            read_until(master, b"damaged line skipped", 20)
        os.write(master, b"q")
        after = read_until(master, b"Results", 30) + drain(master, 10)
        assert proc.wait(timeout=30) == 0
        assert b"loopterm: warning: slow.jsonl:4: damaged line skipped" in after  # and in the scrollback
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
