"""The engine process: runs a race (or a bench) and streams its events, so no viewer can slow it.

The viewer (``sources.EngineSource``) starts ``python -m loopterm.engine``,
writes one JSON line describing the race (lanes, loop settings, task, trace
folder, race id) and reads the race's events back as JSON lines on this
process's stdout, one ``events.dump_event`` line each, then one closing line
``{"engine": "end", "trace": "<folder>" | null, "failure": "<one line>" | null}``.

A viewer that sets ``"handshake": true`` in the spec gets the ``RaceStarted``
event, then ``{"engine": "ready"}``, and the race clock starts only when it
answers ``go`` on stdin: it mounts and draws its panes first, so on a machine
with few cores that work does not land in the first lanes' times.

Providers, loops, the sandbox client, the trace writer and the race clock all
live here: a repaint in the viewer cannot delay a stream read or a
timestamp. Events leave through a non-blocking pipe transport, so a viewer
that reads slowly costs this process memory, never time.

The race stops, closing every lane and marking the trace aborted, on SIGINT
(how the viewer asks), SIGTERM, SIGHUP (a dropped terminal), end of file on
stdin (the viewer is gone) or a broken event pipe.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from loopterm.exits import Exit

END = "engine"  # the key of the closing line


def spec_for(
    lanes: list[Any], config: Any, trace_root: Path, race_id: str | None, what: str, *, handshake: bool = False
) -> dict[str, Any]:
    """The one line the viewer sends: everything the engine needs to run the same race."""
    raw = asdict(config)
    raw["task_dir"] = None if config.task_dir is None else str(config.task_dir)
    return {
        "lanes": [lane.model_dump(mode="json") for lane in lanes],
        "config": raw,
        "trace_root": str(trace_root),
        "race_id": race_id,
        "what": what,
        "handshake": handshake,
    }


async def run_engine(spec: dict[str, Any], out: asyncio.WriteTransport, stdin: asyncio.StreamReader) -> int:
    from loopterm.events import dump_event
    from loopterm.lanes import Lane
    from loopterm.loop.race import RaceConfig
    from loopterm.session import RaceSession
    from loopterm.tasks import find_task

    raw = dict(spec["config"])
    raw["task_dir"] = None if raw.get("task_dir") is None else Path(raw["task_dir"])
    config = RaceConfig(**raw)
    lanes = [Lane.model_validate(lane) for lane in spec["lanes"]]
    task = find_task(config.task_id, config.task_dir)
    session = RaceSession(Path(spec["trace_root"]), what=spec.get("what", "race"))
    stop = session.stop
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(signum, stop)

    go = asyncio.Event()

    async def watch_stdin() -> None:
        with contextlib.suppress(Exception):
            while line := await stdin.readline():
                if line.strip() == b"go":
                    go.set()
        stop()  # the viewer is gone

    async def wait_for_viewer() -> None:
        out.write((json.dumps({END: "ready"}) + "\n").encode())
        await go.wait()

    watcher = asyncio.create_task(watch_stdin())

    def emit(event: Any) -> None:
        if out.is_closing():
            stop()
            return
        out.write((dump_event(event) + "\n").encode())

    try:
        await session.race(
            lanes,
            config,
            task,
            [emit],
            race_id=spec.get("race_id"),
            before_clock=wait_for_viewer if spec.get("handshake") else None,
        )
    finally:
        watcher.cancel()
    folder = session.folder
    end = {END: "end", "trace": None if folder is None else str(folder), "failure": session.failure()}
    if not out.is_closing():
        out.write((json.dumps(end) + "\n").encode())
    return Exit.FAILED if session.failure() else Exit.OK


async def _main() -> int:
    loop = asyncio.get_running_loop()
    stdin = asyncio.StreamReader(limit=16 * 1024 * 1024)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdin), sys.stdin)
    line = await stdin.readline()
    if not line.strip():
        return Exit.USAGE
    # Events get their own fd; anything else printing to stdout goes to stderr instead.
    events = os.fdopen(os.dup(1), "wb", buffering=0)
    os.dup2(2, 1)
    out, _ = await loop.connect_write_pipe(asyncio.Protocol, events)
    code = await run_engine(json.loads(line), out, stdin)
    # Let the transport hand the last lines to the pipe before the process ends.
    while out.get_write_buffer_size() and not out.is_closing():
        await asyncio.sleep(0.01)
    return code


def main() -> int:
    return asyncio.run(_main())


if __name__ == "__main__":
    sys.exit(main())
