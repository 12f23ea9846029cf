"""benchmarks/skewserver.py, the chunk-skew benchmark's parts: its fake server speaks the OpenAI
stream a real lane reads, and every recorded chunk is matched to the time it was sent."""

from __future__ import annotations

import sys
from pathlib import Path

from support.paths import REPO

BENCHMARKS = REPO / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from skewserver import ANSWER, CHUNK_CHARS, SkewServer, lanes_file, skews  # noqa: E402

from loopterm.traces.reader import read_race  # noqa: E402


def test_a_real_lane_streams_from_the_fake_server_and_each_chunk_is_matched(tmp_path: Path, loopterm_main) -> None:
    with SkewServer() as server:
        lanes = lanes_file(tmp_path, server.port)
        out = loopterm_main(
            "race",
            "Stream 1",
            "--lanes",
            str(lanes),
            "--max-turns",
            "2",
            "--thrash-k",
            "0",
            "--plain",
            "--trace-dir",
            str(tmp_path / "traces"),
        )
        assert out.returncode == 0, out.stderr
        (folder,) = (tmp_path / "traces").iterdir()
        found = skews(folder, server.log)
        sent = server.log.requests["stream-1"]
    assert len(sent) == 2  # one request a turn, no retries
    assert [chars for chars, _ in sent[0]][-1] == len(ANSWER)
    assert all(b - a == CHUNK_CHARS for (a, _), (b, _) in zip(sent[0], sent[0][1:-1], strict=False))
    progress = [e for e in read_race(folder).events if e.type == "generation_progress"]
    assert len(found) == len(progress) >= 4  # every progress event named a chunk that was sent
    assert min(found) == 0.0 and all(s >= 0 for s in found)
