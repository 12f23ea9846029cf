"""Bounded everywhere (issue 12, item 4, the engine side): every size has a named limit.

A model's answer, the code taken from it, what a validation hands the engine,
the feedback and prompt sent back, and each trace line: past its bound each is
cut or refused, and the message names the bound. No sandbox runs here: the
validators are fakes handing the engine forged results.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse
from support.event_builders import lane_info, race_started
from support.fakes.server import serve

from loopterm.bounds import (
    ANSWER_MAX_BYTES,
    CODE_MAX_BYTES,
    ERROR_MAX_BYTES,
    MB,
    MESSAGE_MAX_BYTES,
    OUTPUT_MAX_BYTES,
    TRACE_LINE_MAX_BYTES,
    bound_answer,
    clamp_result,
    clip,
    fmt_size,
    utf8_size,
)
from loopterm.events import (
    CheckResult,
    Event,
    GenerationDone,
    LaneDone,
    LaneStarted,
    RaceDone,
    TurnDone,
    TurnStatus,
    ValidationDone,
    ValidationResult,
)
from loopterm.feedback import DEFAULT_MAX_CHARS, format_feedback
from loopterm.lanes import Lane
from loopterm.loop.lane import LaneLoop, LoopSettings
from loopterm.loop.race import RaceConfig, run_race
from loopterm.providers.base import ChatMessage, Generation, ProgressCallback
from loopterm.providers.meter import AnswerTooLong, StreamMeter
from loopterm.tasks import Task
from loopterm.traces.reader import read_race
from loopterm.traces.rescore import rescore_events
from loopterm.traces.writer import TraceWriter

SEVEN_MB = "E" * (7 * MB)
FILLER = "# a filler line that makes the answer enormous\n"
SMALL_CODE = "```python\nfrom fastapi import FastAPI\n\napp = FastAPI()\n```\n"


# -- helpers ------------------------------------------------------------------


class FakeValidator:
    """Hands the engine the results it is given, in turn, and records the code it was asked to validate."""

    def __init__(self, *results: ValidationResult) -> None:
        self.results = list(results)
        self.seen: list[str] = []

    async def validate(self, source: str) -> ValidationResult:
        self.seen.append(source)
        return self.results[min(len(self.seen), len(self.results)) - 1]


class ScriptedProvider:
    """An in-process model: answers in order, and records each prompt it was sent."""

    def __init__(self, *answers: str) -> None:
        self.answers = list(answers)
        self.prompts: list[str] = []

    async def generate(self, messages: list[ChatMessage], on_progress: ProgressCallback | None = None) -> Generation:
        self.prompts.append(messages[0]["content"])
        return Generation(text=self.answers[min(len(self.prompts), len(self.answers)) - 1], generation_s=0.01)

    async def aclose(self) -> None:
        pass


def partial_result(task: Task, message: str = "sent GET /x; got 404", output: str = "") -> ValidationResult:
    """Every check but the first passes; the first fails with ``message``."""
    checks = [
        CheckResult.model_construct(
            id=c.id,
            group=c.group,
            description=c.description,
            passed=i > 0,
            message=message if i == 0 else "",
            duration_ms=1.0,
        )
        for i, c in enumerate(task.suite.checks)
    ]
    total = len(checks)
    return ValidationResult.model_construct(
        task=task.id,
        score=(total - 1) / total,
        passed=total - 1,
        total=total,
        status="PARTIAL",
        error=None,
        duration_ms=5.0,
        checks=checks,
        output=output,
        infrastructure_error=None,
    )


def forged_load_error(task: Task) -> ValidationResult:
    """A 7 MB load error, copied into all the checks' messages, and 7 MB of output (strings shared, not copied)."""
    message = f"not run: the candidate did not load: {SEVEN_MB}"
    checks = [
        CheckResult.model_construct(
            id=c.id, group=c.group, description=c.description, passed=False, message=message, duration_ms=0.0
        )
        for c in task.suite.checks
    ]
    return ValidationResult.model_construct(
        task=task.id,
        score=0.0,
        passed=0,
        total=len(checks),
        status="FAIL",
        error=SEVEN_MB,
        duration_ms=5.0,
        checks=checks,
        output=SEVEN_MB,
        infrastructure_error=None,
    )


def lines_of(folder: Path) -> list[bytes]:
    return [line for path in folder.glob("*.jsonl") for line in path.read_bytes().split(b"\n") if line]


def of_type(events: list[Event], cls: type) -> list[Any]:
    return [e for e in events if isinstance(e, cls)]


# -- the helpers of loopterm.bounds ---------------------------------------------


def test_sizes_read_as_the_bounds_are_named() -> None:
    assert fmt_size(ANSWER_MAX_BYTES) == "256 KB"
    assert fmt_size(CODE_MAX_BYTES) == "128 KB"
    assert fmt_size(7 * MB) == "7.0 MB"
    assert fmt_size(TRACE_LINE_MAX_BYTES) == "1.0 MB"
    assert fmt_size(900) == "900 bytes"


@pytest.mark.parametrize("keep", ["head", "ends"])
@pytest.mark.parametrize("text", [SEVEN_MB, "é" * 5000, "x" * 4097, "\U0001f600" * 3000])
def test_clip_fits_its_limit_in_bytes_and_says_how_much_it_cut(text: str, keep: str) -> None:
    out = clip(text, 4096, keep=keep)  # type: ignore[arg-type]
    assert utf8_size(out) <= 4096
    assert "[cut: " in out
    assert out.startswith(text[:100])
    if keep == "ends":
        assert out.endswith(text[-100:])
    assert clip("short", 4096, keep=keep) == "short"  # type: ignore[arg-type]
    assert clip(SEVEN_MB, 4096).endswith("… [cut: 7.0 MB more]")


def test_clamp_result_cuts_every_message_error_and_output() -> None:
    checks = [
        CheckResult.model_construct(
            id=f"c{i}",
            group="g",
            description="d",
            passed=False,
            message=SEVEN_MB if i % 2 else "small",
            duration_ms=0.0,
        )
        for i in range(47)
    ]
    forged = ValidationResult.model_construct(
        task="t",
        score=0.0,
        passed=0,
        total=47,
        status="FAIL",
        error=SEVEN_MB,
        duration_ms=1.0,
        checks=checks,
        output=SEVEN_MB,
        infrastructure_error=SEVEN_MB,
    )
    clamped = clamp_result(forged)
    assert all(utf8_size(c.message) <= MESSAGE_MAX_BYTES for c in clamped.checks)
    assert clamped.checks[0].message == "small"
    assert utf8_size(clamped.error or "") <= ERROR_MAX_BYTES
    assert utf8_size(clamped.infrastructure_error or "") <= ERROR_MAX_BYTES
    assert utf8_size(clamped.output) <= OUTPUT_MAX_BYTES
    assert clamped.checks[1].message.endswith("[cut: 7.0 MB more]")
    assert len(clamped.model_dump_json()) < 47 * MESSAGE_MAX_BYTES + 3 * OUTPUT_MAX_BYTES
    small = partial_result_plain()
    assert clamp_result(small) is small  # nothing to cut: no copy


def partial_result_plain() -> ValidationResult:
    return ValidationResult(
        task="t",
        score=0.5,
        passed=1,
        total=2,
        status="PARTIAL",
        duration_ms=1.0,
        checks=[
            CheckResult(id="a", group="g", description="d", passed=True),
            CheckResult(id="b", group="g", description="d", passed=False, message="m"),
        ],
    )


def test_an_answer_past_the_cap_is_refused_and_kept_only_to_the_cap() -> None:
    kept, reason = bound_answer("a" * (10 * MB))
    assert reason == "answer too long, 10.0 MB (limit 256 KB)"
    assert utf8_size(kept) <= ANSWER_MAX_BYTES + 100 and kept.endswith("[cut: 9.8 MB more]")
    assert bound_answer("a" * ANSWER_MAX_BYTES) == ("a" * ANSWER_MAX_BYTES, None)


def test_the_stream_meter_stops_reading_at_the_cap() -> None:
    meter = StreamMeter(None, max_bytes=1000)
    meter.add("x" * 600)
    with pytest.raises(AnswerTooLong):
        meter.add("é" * 600)  # 1,200 bytes: only 400 of them fit
    assert meter.stopped and utf8_size(meter.text) <= 1000 and meter.text.startswith("x" * 600)


# -- the feedback -------------------------------------------------------------


def test_feedback_on_a_forged_7_mb_load_error_stays_under_its_cap(task: Task) -> None:
    forged = forged_load_error(task)
    for result in (forged, clamp_result(forged)):
        text = format_feedback(result)
        assert len(text) <= DEFAULT_MAX_CHARS
        assert "did not load" in text and "[cut: " in text
    assert len(format_feedback(forged, max_chars=1000)) <= 1000


def test_feedback_on_a_7_mb_check_message_or_output_still_names_the_check(task: Task) -> None:
    result = partial_result(task, message=SEVEN_MB, output=SEVEN_MB)
    text = format_feedback(result)
    assert len(text) <= DEFAULT_MAX_CHARS
    first = task.suite.checks[0]
    assert f"- {first.id}: " in text  # named with its message cut, not left out for its size
    assert "[cut: 7.0 MB more]" in text


# -- a race: the engine's side, end to end ------------------------------------


@dataclass
class HugeServer:
    """An OpenAI-compatible server on 127.0.0.1 whose first answer is 10 MB; later ones are a small file."""

    url: str
    bodies: list[bytes] = field(default_factory=list)  # every request body, as received
    abandoned: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)


def _huge_app(state: HugeServer) -> FastAPI:
    app = FastAPI()

    def chunk(content: str | None, finish: str | None = None) -> bytes:
        delta = {"content": content} if content is not None else {}
        data = {
            "id": "x",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": "huge",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        return f"data: {json.dumps(data)}\n\n".encode()

    async def play(answer: str, huge: bool) -> AsyncIterator[bytes]:
        try:
            for i in range(0, len(answer), 64 * 1024):
                yield chunk(answer[i : i + 64 * 1024])
                if huge:
                    await asyncio.sleep(0.005)  # the point: a stream that arrives in pieces, not one buffer
            if huge:
                await asyncio.sleep(3)  # the point: a client reading to the end waits here; one that stopped has gone
            yield chunk(None, "stop") + b"data: [DONE]\n\n"
            if huge:
                state.finished.set()
        except (asyncio.CancelledError, GeneratorExit):
            state.abandoned.set()
            raise

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> StreamingResponse:
        state.bodies.append(await request.body())
        huge = len(state.bodies) == 1
        answer = "Here it is.\n```python\n" + FILLER * (10 * MB // len(FILLER)) + "```\n" if huge else SMALL_CODE
        return StreamingResponse(play(answer, huge), media_type="text/event-stream")

    return app


@pytest.fixture
def huge_server() -> Iterator[HugeServer]:
    state = HugeServer(url="")
    with serve(_huge_app(state)) as url:
        state.url = url
        yield state


@pytest.mark.anyio
async def test_a_10_mb_answer_is_a_fail_turn_that_is_neither_read_whole_nor_re_sent(
    tmp_path: Path, task: Task, huge_server: HugeServer
) -> None:
    lane = Lane(name="Huge", provider="openai", model="huge", base_url=f"{huge_server.url}/v1", max_retries=0)
    validator = FakeValidator(partial_result(task))
    events: list[Event] = []
    writer = TraceWriter(tmp_path)
    await run_race([lane], RaceConfig(max_turns=2, thrash_k=0), [writer, events.append], task=task, validator=validator)

    first = of_type(events, ValidationDone)[0]
    assert first.code is None
    reason = first.result.error or ""
    assert reason.startswith("answer too long") and "(limit 256 KB)" in reason
    assert reason in first.feedback
    assert [t.status for t in of_type(events, TurnDone)] == [TurnStatus.FAIL, TurnStatus.PARTIAL]
    assert len(validator.seen) == 1 and "app = FastAPI()" in validator.seen[0]  # turn 1 validated nothing

    # The client stopped reading: the server saw the stream abandoned, never played to its end
    # (a client reading to the end would have waited out the server's 3 s pause, and left no
    # abandon). Ordered, not timed: the wait below is only a deadline.
    assert await asyncio.to_thread(huge_server.abandoned.wait, 30.0)
    assert not huge_server.finished.is_set()

    # The next prompt is small and carries none of the answer.
    assert len(huge_server.bodies) == 2
    assert len(huge_server.bodies[1]) < 100_000
    assert FILLER.strip().encode() not in huge_server.bodies[1]
    assert b"answer too long" in huge_server.bodies[1]

    # The trace keeps at most the cap, plus a note of the cut.
    assert writer.folder is not None
    assert sum(p.stat().st_size for p in writer.folder.iterdir()) < ANSWER_MAX_BYTES + 200_000
    trace = read_race(writer.folder)
    assert trace.warnings == []
    recorded = of_type(trace.events, GenerationDone)[0].text
    assert utf8_size(recorded) <= ANSWER_MAX_BYTES + 100
    assert recorded.endswith("[cut: reading stopped past 256 KB]")

    # A rescore keeps the refused turn refused: nothing new to validate there.
    again = FakeValidator(partial_result(task))
    rescored = await rescore_events(trace, task, again)
    assert of_type(rescored, ValidationDone)[0].result.error == reason
    assert len(again.seen) == 1


@pytest.mark.anyio
async def test_code_past_its_cap_is_a_fail_turn_and_is_not_validated(task: Task) -> None:
    big = "```python\napp = None\n" + "x = 1\n" * (CODE_MAX_BYTES // 6 + 10) + "```\n"
    assert utf8_size(big) < ANSWER_MAX_BYTES
    provider = ScriptedProvider(big, SMALL_CODE)
    validator = FakeValidator(partial_result(task))
    events: list[Event] = []
    loop = LaneLoop(
        "big",
        Lane(name="Big", provider="openai", model="m"),
        provider,
        validator,
        task,
        LoopSettings(max_turns=2, thrash_k=0),
        time.perf_counter,
        events.append,
    )
    await loop.run()
    first = of_type(events, ValidationDone)[0]
    assert first.code is None
    assert (first.result.error or "").startswith("code too long, ") and "(limit 128 KB)" in (first.result.error or "")
    assert len(validator.seen) == 1  # only turn 2's small file
    assert len(provider.prompts[1]) < 100_000 and "x = 1\nx = 1" not in provider.prompts[1]


@pytest.mark.anyio
async def test_a_forged_7_mb_validation_result_stays_small_in_feedback_prompt_and_trace(
    tmp_path: Path, task: Task
) -> None:
    provider = ScriptedProvider(SMALL_CODE)
    validator = FakeValidator(forged_load_error(task), partial_result(task, message=SEVEN_MB, output=SEVEN_MB))
    writer = TraceWriter(tmp_path)
    info = lane_info("forged", "Forged", "m", simulated=False)
    writer(race_started([info], race_id="20261203-000000-ab12", max_turns=3, thrash_k=0))
    events: list[Event] = []

    def emit(event: Event) -> None:
        writer(event)
        events.append(event)

    loop = LaneLoop(
        "forged",
        Lane(name="Forged", provider="openai", model="m"),
        provider,
        validator,
        task,
        LoopSettings(max_turns=3, thrash_k=0),
        time.perf_counter,
        emit,
    )
    await loop.run()
    writer(RaceDone(t=time.perf_counter()))

    for done in of_type(events, ValidationDone):
        assert len(done.feedback) <= DEFAULT_MAX_CHARS
        assert utf8_size(done.result.error or "") <= ERROR_MAX_BYTES
        assert utf8_size(done.result.output) <= OUTPUT_MAX_BYTES
        assert all(utf8_size(c.message) <= MESSAGE_MAX_BYTES for c in done.result.checks)
    assert len(provider.prompts) == 3
    assert all(len(p) < 60_000 for p in provider.prompts[1:])  # the spec, the small file, the capped feedback

    assert writer.folder is not None
    lines = lines_of(writer.folder)
    assert all(len(line) <= TRACE_LINE_MAX_BYTES for line in lines)
    assert sum(len(line) for line in lines) < 2 * MB  # was 980 MB after three turns
    trace = read_race(writer.folder)
    assert trace.warnings == []
    assert len(of_type(trace.events, ValidationDone)) == 3


# -- the trace writer ---------------------------------------------------------


def test_the_writer_cuts_a_huge_event_to_one_bounded_line_that_reads_back(tmp_path: Path) -> None:
    writer = TraceWriter(tmp_path)
    writer(race_started([lane_info("a", "A", "m", simulated=False)], race_id="20261203-000001-cd34", max_turns=1))
    checks = [
        CheckResult.model_construct(
            id=f"c{i}", group="g", description="d", passed=False, message=SEVEN_MB, duration_ms=0.0
        )
        for i in range(47)
    ]
    forged = ValidationResult.model_construct(
        task="t",
        score=0.0,
        passed=0,
        total=47,
        status="FAIL",
        error=SEVEN_MB,
        duration_ms=1.0,
        checks=checks,
        output="",
        infrastructure_error=None,
    )
    many = [CheckResult(id=f"m{i}", group="g", description="d", passed=False, message="m" * 100) for i in range(20_000)]
    flood = ValidationResult(
        task="t", score=0.0, passed=0, total=len(many), status="FAIL", duration_ms=1.0, checks=many
    )
    writer(LaneStarted(t=0.1, lane="a"))
    writer(GenerationDone(t=0.2, lane="a", turn=1, text="é" * (5 * MB), ttft_s=0.1, generation_s=0.1))
    writer(ValidationDone(t=0.3, lane="a", turn=1, code="app = 1", result=forged, feedback="f"))
    writer(ValidationDone(t=0.4, lane="a", turn=2, code="app = 1", result=flood, feedback="f"))
    writer(
        LaneDone(
            t=0.5,
            lane="a",
            outcome="TURN_LIMIT",
            reason="r",
            turns=2,
            time_to_pass_s=None,
            best_score=0.0,
            final_score=0.0,
        )
    )
    writer(RaceDone(t=0.6))

    assert writer.folder is not None
    lines = (writer.folder / "a.jsonl").read_bytes().split(b"\n")[:-1]
    assert len(lines) == 5  # nothing dropped
    assert all(len(line) <= TRACE_LINE_MAX_BYTES for line in lines)
    assert all("cut_to_fit" in json.loads(line) for line in lines[1:4])

    trace = read_race(writer.folder)
    assert trace.warnings == []
    generation = of_type(trace.events, GenerationDone)[0]
    assert generation.text.startswith("é" * 1000) and "[cut: " in generation.text
    cut, flooded = of_type(trace.events, ValidationDone)
    assert len(cut.result.checks) == 47 and cut.result.checks[0].message.endswith("[cut: 7.0 MB more]")
    assert 0 < len(flooded.result.checks) < 20_000  # the list kept its first items
    assert of_type(trace.events, LaneDone)[0].reason == "r"
