"""The loop engine and races, end to end: real sandbox, real suite, real traces.

The races share one warm sandbox (conftest's ``sandbox``), as the lanes of a race do;
a race that starts its own is covered by the race and bench commands' tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.fakes.fixtures import FakeServer, running_fake_server
from support.shared_sandbox import SharedSandbox

from loopterm.events import (
    Event,
    GenerationDone,
    GenerationProgress,
    LaneDone,
    LaneStarted,
    Outcome,
    RaceDone,
    RaceStarted,
    TurnDone,
    TurnStatus,
    ValidationDone,
)
from loopterm.lanes import Lane, Price, resolve
from loopterm.loop.race import RaceConfig, RaceResult, run_race
from loopterm.providers import retry
from loopterm.providers.sim import answer_base
from loopterm.tasks import Task
from loopterm.traces.reader import read_race
from loopterm.traces.writer import TraceWriter

pytestmark = pytest.mark.anyio

SIMS = ["sim:fast-diffusion", "sim:frontier", "sim:mini", "sim:weak-local"]


async def race(
    lanes: list[Lane], root: Path, task: Task, sandbox: SharedSandbox, **config: object
) -> tuple[list, Path, RaceResult]:
    events: list = []
    writer = TraceWriter(root)
    result = await run_race(lanes, RaceConfig(**config), [writer, events.append], task=task, validator=sandbox)
    assert writer.folder is not None
    return events, writer.folder, result


def by_lane(events: list, cls: type) -> dict[str, list]:
    out: dict[str, list] = {}
    for e in events:
        if isinstance(e, cls):
            out.setdefault(e.lane, []).append(e)
    return out


async def test_sim_race_is_deterministic_traced_and_well_formed(
    tmp_path: Path, task: Task, sandbox: SharedSandbox
) -> None:
    lanes = [resolve(name) for name in SIMS]
    first, folder, result = await race(lanes, tmp_path / "a", task, sandbox, time_scale=0, seed=3, max_turns=6)
    second, _, _ = await race(lanes, tmp_path / "b", task, sandbox, time_scale=0, seed=3, max_turns=6)

    def scores(events: list) -> dict[str, list[tuple[str, float]]]:
        return {k: [(e.status.value, e.score) for e in v] for k, v in by_lane(events, TurnDone).items()}

    assert scores(first) == scores(second)  # same seed, same race

    assert isinstance(first[0], RaceStarted) and isinstance(first[-1], RaceDone)
    assert not first[-1].aborted
    for run_id in (lane.run_id for lane in first[0].lanes):
        mine = [e for e in first if getattr(e, "lane", None) == run_id]
        assert isinstance(mine[0], LaneStarted) and isinstance(mine[-1], LaneDone)
        turns = by_lane(first, TurnDone)[run_id]
        checks = by_lane(first, ValidationDone)[run_id]
        assert [t.turn for t in turns] == list(range(1, len(turns) + 1))
        for done, validation in zip(turns, checks, strict=True):
            assert done.score == validation.result.score
            assert done.passed == sum(c.passed for c in validation.result.checks) or validation.code is None
    # Places go to passing lanes in the order they passed.
    passed = [e for e in first if isinstance(e, LaneDone) and e.outcome is Outcome.PASS]
    assert [e.place for e in passed] == list(range(1, len(passed) + 1))
    assert [d.lane for d in result.lanes] == [lane.run_id for lane in first[0].lanes]
    # The trace reads back as exactly what was emitted.
    trace = read_race(folder)
    assert trace.status == "complete" and trace.warnings == []
    assert trace.events == first


async def test_a_passing_sim_turn_submits_exactly_the_reference(
    tmp_path: Path, task: Task, sandbox: SharedSandbox
) -> None:
    events, _, _ = await race([resolve("sim:fast-diffusion")], tmp_path, task, sandbox, time_scale=0, seed=5)
    validations = by_lane(events, ValidationDone)["fast-diffusion-sim"]
    assert validations[-1].result.status == "PASS"
    assert validations[-1].code == answer_base(task.reference_source)  # minus its docstring
    # Earlier turns carried real faults that the real suite caught.
    assert validations[0].result.status == "PARTIAL"
    failing = {c.id for c in validations[0].result.checks if not c.passed}
    assert failing and failing <= {c.id for c in task.suite.checks}
    assert validations[0].feedback and all(i in validations[0].feedback for i in failing)


async def test_turn_limit_and_thrash(tmp_path: Path, task: Task, sandbox: SharedSandbox) -> None:
    weak = resolve("sim:weak-local")
    events, _, _ = await race([weak], tmp_path / "limit", task, sandbox, time_scale=0, seed=1, max_turns=2, thrash_k=0)
    done = by_lane(events, LaneDone)["weak-local-sim"][0]
    assert done.outcome is Outcome.TURN_LIMIT and done.turns == 2

    events, _, _ = await race([weak], tmp_path / "thrash", task, sandbox, time_scale=0, seed=1, thrash_k=2)
    turns = by_lane(events, TurnDone)["weak-local-sim"]
    done = by_lane(events, LaneDone)["weak-local-sim"][0]
    assert done.outcome is Outcome.THRASH
    assert turns[-1].status is TurnStatus.THRASH
    # The rule: the last 2 turns did not beat the best score before them.
    best_before = max(t.score for t in turns[:-2])
    assert all(t.score <= best_before for t in turns[-2:])


async def test_budget_stops_a_slow_lane(tmp_path: Path, task: Task, sandbox: SharedSandbox) -> None:
    # Frontier at its real pace waits ~15 s for a first token: the 0.3 s budget ends it.
    events, _, _ = await race([resolve("sim:frontier")], tmp_path, task, sandbox, time_scale=1, seed=1, budget_s=0.3)
    done = by_lane(events, LaneDone)["frontier-sim"][0]
    assert done.outcome is Outcome.BUDGET
    assert "budget of 0.3 s" in done.reason
    # At the budget, not at the end of the turn: it never saw its first token. (Ordered, not
    # timed: both waits are timers on one loop, so a busy machine delays them alike.)
    assert by_lane(events, GenerationProgress).get("frontier-sim") is None


async def test_cancelling_a_race_leaves_a_complete_aborted_trace(
    tmp_path: Path, task: Task, sandbox: SharedSandbox
) -> None:
    streaming_started = asyncio.Event()
    events: list = []
    writer = TraceWriter(tmp_path)

    def sink(event) -> None:
        events.append(event)
        if isinstance(event, GenerationProgress):
            streaming_started.set()

    lanes = [resolve("sim:fast-diffusion"), resolve("sim:frontier")]
    config = RaceConfig(time_scale=1, seed=1)
    runner = asyncio.create_task(run_race(lanes, config, [writer, sink], task=task, validator=sandbox))
    await streaming_started.wait()
    runner.cancel()
    with pytest.raises(asyncio.CancelledError):
        await runner
    done = by_lane(events, LaneDone)
    assert {k: v[0].outcome for k, v in done.items()} == {
        "fast-diffusion-sim": Outcome.ABORTED,
        "frontier-sim": Outcome.ABORTED,
    }
    assert isinstance(events[-1], RaceDone) and events[-1].aborted
    trace = read_race(writer.folder)
    assert trace.status == "aborted"
    assert trace.warnings == []  # nothing synthesized: the engine closed every lane itself
    assert trace.events == events


@pytest.fixture(scope="module")
def fake_server() -> Iterator[FakeServer]:
    yield from running_fake_server()


async def test_real_sdk_lanes_against_fake_servers(
    tmp_path: Path, task: Task, sandbox: SharedSandbox, fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(retry, "DEFAULT_BACKOFF", retry.Backoff(base_s=0.01, cap_s=0.02))
    monkeypatch.setenv("FAKE_OPENAI_KEY", "sk-test-not-a-secret-but-treated-as-one")
    url = fake_server.url
    price = Price(input=1.0, output=2.0)
    lanes = [
        Lane(
            name="Passes",
            provider="openai",
            model="reference~race",
            base_url=f"{url}/v1",
            api_key_env="FAKE_OPENAI_KEY",
            lane_class="H/AR",
            price=price,
        ),
        Lane(
            name="No app",
            provider="gemini",
            model="ok~race",
            base_url=url,
            api_key_env="FAKE_OPENAI_KEY",
            lane_class="H/AR",
            price=price,
        ),
        Lane(name="Flaky", provider="ollama", model="rate-limit-once~race", base_url=url, lane_class="L/AR"),
        Lane(
            name="Broken",
            provider="openai",
            model="always-500~race",
            base_url=f"{url}/v1",
            api_key_env="FAKE_OPENAI_KEY",
            max_retries=1,
        ),
    ]
    events, folder, _ = await race(lanes, tmp_path, task, sandbox, max_turns=5, thrash_k=3, seed=1)
    done = {k: v[0] for k, v in by_lane(events, LaneDone).items()}
    assert done["passes"].outcome is Outcome.PASS and done["passes"].turns == 1 and done["passes"].place == 1
    assert done["no-app"].outcome is Outcome.THRASH and done["no-app"].turns == 4
    assert done["broken"].outcome is Outcome.ERROR and "server error 500" in done["broken"].reason

    gens = by_lane(events, GenerationDone)
    first = gens["passes"][0]
    assert first.usage.prompt == 42 and first.usage.completion == 17 and not first.usage.estimated
    assert first.cost == pytest.approx((42 * 1.0 + 17 * 2.0) / 1e6)
    assert first.ttft_s is not None and 0 < first.ttft_s <= first.generation_s
    assert [r.kind for r in gens["flaky"][0].retries] == ["rate_limited"]
    # Ollama's own durations from its final chunk reach the trace beside ours
    assert gens["flaky"][0].provider_timing["eval_s"] == pytest.approx(0.5)
    assert gens["flaky"][0].provider_timing["load_s"] == pytest.approx(0.1)
    assert len(gens["broken"][0].retries) == 1
    no_app = by_lane(events, ValidationDone)["no-app"][0]
    assert "no module-level `app`" in (no_app.result.error or "")
    assert "no module-level `app`" in no_app.feedback
    # The fix prompt of turn 2 carried turn 1's feedback to the server.
    sent = fake_server.recorder.requests["ok~race"][1]["body"]
    assert "no module-level `app`" in str(sent)

    trace = read_race(folder)
    assert trace.events == events
    assert "sk-test-not-a-secret" not in "".join(p.read_text() for p in folder.iterdir())


async def test_one_hung_lane_does_not_delay_another(
    tmp_path: Path, task: Task, sandbox: SharedSandbox, fake_server: FakeServer
) -> None:
    hung = Lane(
        name="Hung", provider="openai", model="hang~iso", base_url=f"{fake_server.url}/v1", timeout_s=3, max_retries=0
    )
    events, _, _ = await race([hung, resolve("sim:fast-diffusion")], tmp_path, task, sandbox, time_scale=0, seed=2)
    done = {k: v[0] for k, v in by_lane(events, LaneDone).items()}
    assert done["hung"].outcome is Outcome.ERROR
    assert "no complete answer within 3 s" in done["hung"].reason
    assert done["fast-diffusion-sim"].outcome is Outcome.PASS
    assert done["fast-diffusion-sim"].t < done["hung"].t - 1.0


async def test_a_shared_sandbox_validates_lanes_concurrently(
    tmp_path: Path, task: Task, sandbox: SharedSandbox
) -> None:
    # Eight lanes on one sandbox: every lane gets the same real verdicts it would alone.
    events: list = []
    lanes = [resolve("sim:fast-diffusion") for _ in range(8)]
    await run_race(lanes, RaceConfig(time_scale=0, seed=4), [events.append], task=task, validator=sandbox)
    done = by_lane(events, LaneDone)
    assert len(done) == 8 and {len(v) for v in done.values()} == {1}
    assert all(v[0].outcome is Outcome.PASS for v in done.values())


async def test_time_to_pass_counts_from_the_race_start_in_a_race_and_the_run_start_in_a_bench(
    tmp_path: Path, task: Task, sandbox: SharedSandbox
) -> None:
    fast = resolve("sim:fast-diffusion")
    events, _, _ = await race([fast, fast], tmp_path / "race", task, sandbox, time_scale=0, seed=6)
    origin = events[0].t
    for run_id, (done,) in by_lane(events, LaneDone).items():
        passing = by_lane(events, ValidationDone)[run_id][-1]
        assert done.outcome is Outcome.PASS
        assert done.time_to_pass_s == pytest.approx(passing.t - origin)  # the pane timer's clock

    # a bench run waits for its --concurrency slot: it is timed from its own start
    events, _, _ = await race(
        [fast],
        tmp_path / "bench",
        task,
        sandbox,
        time_scale=0,
        seed=6,
        runs=2,
        concurrency=1,
        kind="bench",
        bench_id="b",
    )
    second = by_lane(events, LaneStarted)["fast-diffusion-sim-r02"][0]
    assert second.t > events[0].t + 0.05  # it really started after the first run
    done = by_lane(events, LaneDone)["fast-diffusion-sim-r02"][0]
    passing = by_lane(events, ValidationDone)["fast-diffusion-sim-r02"][-1]
    assert done.time_to_pass_s == pytest.approx(passing.t - second.t)


async def test_provider_sdks_are_imported_before_the_race_clock_starts(
    tmp_path: Path, task: Task, sandbox: SharedSandbox, fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Importing an SDK takes over a second and blocks the loop: inside the race it would stall every lane.
    import sys

    monkeypatch.delitem(sys.modules, "loopterm.providers.gemini", raising=False)
    monkeypatch.setenv("FAKE_GEMINI_KEY", "not-a-real-key")
    seen: list[bool] = []

    def sink(event: object) -> None:
        if isinstance(event, RaceStarted):
            seen.append("loopterm.providers.gemini" in sys.modules)

    lane = Lane(
        name="G", provider="gemini", model="ok~preload", base_url=fake_server.url, api_key_env="FAKE_GEMINI_KEY"
    )
    await run_race([lane], RaceConfig(max_turns=1), [sink], task=task, validator=sandbox)
    assert seen == [True]


async def test_a_race_ranks_its_passing_lanes_and_a_bench_ranks_no_run(task: Task, sandbox: SharedSandbox) -> None:
    lanes = [resolve("sim:fast-diffusion"), resolve("sim:mini")]
    raced: list[Event] = []
    await run_race(lanes, RaceConfig(time_scale=0, seed=1, max_turns=15), [raced.append], task=task, validator=sandbox)
    places = sorted(e.place for e in raced if isinstance(e, LaneDone) and e.outcome is Outcome.PASS)
    assert places and places == list(range(1, len(places) + 1))
    benched: list[Event] = []
    await run_race(
        lanes,
        RaceConfig(time_scale=0, seed=1, max_turns=15, runs=2, kind="bench", bench_id="b"),
        [benched.append],
        task=task,
        validator=sandbox,
    )
    ends = [e for e in benched if isinstance(e, LaneDone)]
    assert len(ends) == 4 and any(e.outcome is Outcome.PASS for e in ends)
    assert all(e.place is None for e in ends)  # independent runs: no "4th Frontier (sim) #1"
