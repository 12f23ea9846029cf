"""Ctrl-C at any moment of a command's start is one line and exit 130, never a traceback."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

# The interpreter says when it is up (site and the bare package imported), then runs `python -m
# loopterm` as usual: the delays below count from there, so a loaded machine's slow interpreter
# start-up (where no program can catch a signal) does not move the moment the test aims at.
LAUNCH = (
    "import os, runpy, loopterm; os.write(1, b'up\\n'); "
    "runpy.run_module('loopterm', run_name='__main__', alter_sys=True)"
)


@pytest.mark.parametrize("delay", [0.05, 0.1, 0.25, 0.4, 0.8])
def test_ctrl_c_early_in_a_race_is_one_line_and_130(tmp_path: Path, delay: float) -> None:
    # Whatever the moment (importing the commands, warming the sandbox, racing), the same answer.
    proc = subprocess.Popen(
        [sys.executable, "-c", LAUNCH, "race", "--plain", "--trace-dir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == "up\n"
    time.sleep(delay)  # the point: the moment of the start the signal lands in
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=120)
    assert "Traceback" not in err, err
    # 130 from us, or death by SIGINT itself (-2) when the signal lands as Python hands the
    # interrupt on at exit: a shell shows both as 130. Never a traceback, always the one line.
    assert proc.returncode in (130, -signal.SIGINT), (proc.returncode, err)
    assert err.strip().splitlines()[-1].startswith("loopterm: "), err
