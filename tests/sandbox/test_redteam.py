"""Red team (issue 12, item 7): hostile candidates against the real sandbox, alone and raced.

Every file in ``tests/candidates/redteam/`` (but ``_*`` helpers) is a hostile
answer; its docstring says what it attempts. Most also serve the "mini" task
honestly but for one deliberate bug (/echo answers the wrong body), so their
honest score is 2/3 and a forged PASS, or any verdict the attack moved, shows.

1. Each is validated alone through one real :class:`Sandbox` (short limits):
   never PASS, never an infrastructure error (its misbehaviour is its own
   FAIL/PARTIAL), no ``ESCAPED``/``REACHED`` line in its output, and, where
   the attack aims at something outside it, that thing is checked from here
   (files outside, the runner's memory, other processes' priority, an honest
   validation running beside it, what a terminal would be sent).
2. Each group is raced end to end beside one honest lane through a loopback
   fake OpenAI-compatible server: no hostile lane passes or ends in ERROR, and
   the honest lane's outcome, turns and scores are those of a race without
   the hostile lanes.

An attack that works fails its test: these tests are never weakened or
marked xfail to make the suite green.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import re
import signal
import socket
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse
from rich.console import Console
from support.fakes.server import serve
from support.paths import CANDIDATES, REPO
from support.processes import children
from support.waiting import wait_for

from loopterm.events import LaneDone, Outcome, TurnDone, TurnStatus, ValidationDone, ValidationResult
from loopterm.lanes import Lane
from loopterm.loop.race import RaceConfig, run_race
from loopterm.plain.race import PlainPrinter
from loopterm.sandbox import Limits, Sandbox
from loopterm.tasks import Task, find_task
from loopterm.traces.reader import read_race
from loopterm.traces.writer import TraceWriter

REDTEAM = CANDIDATES / "redteam"
MINI = find_task("mini", CANDIDATES / "task")
REFERENCE = (CANDIDATES / "task/validation/mini/reference.py").read_text()

HOSTILE = sorted(p.stem for p in REDTEAM.glob("*.py") if not p.name.startswith("_"))
GROUPS = ("forge", "reach", "proto", "escape", "exhaust", "runner", "ansi")
BY_GROUP = {g: [n for n in HOSTILE if n.startswith(g + "_")] for g in GROUPS}
assert sorted(n for g in GROUPS for n in BY_GROUP[g]) == HOSTILE, "every candidate belongs to a group"

LIMITS = Limits(load_timeout_s=2.0, run_timeout_s=3.0, check_timeout_s=1.0, memory_mib=256)
# Raced: a little more room per check, as ten candidates share two cores.
RACE_LIMITS = Limits(load_timeout_s=3.0, run_timeout_s=6.0, check_timeout_s=2.0, memory_mib=256)

# Candidates whose attack leaves their own serving alone: they must score exactly the honest 2/3
# (hello and the 404 pass, echo fails). The others break their own serving on purpose (a protocol
# breach, a crash, a stop): they must score no more than that.
HONEST = {
    "forge_stdout_lines",
    "forge_fd_sweep",
    "forge_where_pipe",
    "forge_patch_json",
    "forge_import_suite",
    "forge_reuse_app",
    "forge_read_reference",
    "forge_proc_self_mem",
    "forge_proc_others",
    "reach_files",
    "reach_sys_modules",
    "reach_gc",
    "reach_frames",
    "reach_other_candidate",
    "reach_env_home",
    "proto_where_flood",
    "escape_write_outside",
    "escape_network",
    "escape_unix_sockets",
    "escape_signals",
    "escape_sched_parent",
    "escape_raise_priority",
    "escape_ctypes_ptrace",
    "escape_code_swap",
    "escape_settrace",
    "escape_new_process",
    "exhaust_disk_quota",
    "exhaust_endless_stdout",
    "exhaust_memfd",
    "exhaust_socket_buffers",
    "exhaust_endless_body",
    "exhaust_memory_bomb",
    "runner_gzip_bomb",
    "runner_codec_bomb",
    "runner_punycode",
    "runner_header_tricks",
    "ansi_output",
}
assert set(HOSTILE) >= HONEST

# What a terminal must never be sent raw: C0 controls but newline and tab, DEL and C1, bidi controls.
BIDI = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C)}


# -- the world around the candidates ---------------------------------------------------------------------------


@dataclass
class Listeners:
    """Sockets the network attacks aim at: none of them may ever see a byte."""

    tcp: socket.socket
    udp: socket.socket
    abstract_stream: socket.socket
    abstract_dgram: socket.socket
    path_dgram: socket.socket
    abstract: str
    path: str

    def heard(self) -> list[str]:
        got = []
        for name, sock in (("tcp", self.tcp), ("abstract stream", self.abstract_stream)):
            try:
                conn, _ = sock.accept()
            except BlockingIOError:
                continue
            conn.close()
            got.append(f"{name} connection")
        for name, sock in (("udp", self.udp), ("abstract dgram", self.abstract_dgram), ("path dgram", self.path_dgram)):
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                continue
            got.append(f"{name} datagram {data[:20]!r}")
        return got


@pytest.fixture(scope="module")
def listeners(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Listeners]:
    tag = f"loopterm-redteam-{os.getpid()}-{time.monotonic_ns() % 10**9}"
    path = str(tmp_path_factory.mktemp("unix") / "dgram.sock")
    tcp = socket.create_server(("127.0.0.1", 0))
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    a_stream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    a_stream.bind("\0" + tag + "-stream")
    a_stream.listen(8)
    a_dgram = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    a_dgram.bind("\0" + tag + "-dgram")
    p_dgram = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    p_dgram.bind(path)
    os.chmod(path, 0o777)
    found = Listeners(tcp, udp, a_stream, a_dgram, p_dgram, tag, path)
    for sock in (tcp, udp, a_stream, a_dgram, p_dgram):
        sock.setblocking(False)
    yield found
    for sock in (tcp, udp, a_stream, a_dgram, p_dgram):
        sock.close()


@pytest.fixture(scope="module")
def engine_signals() -> Iterator[Counter[int]]:
    """SIGUSR2s this process (the engine) received: a candidate must never reach it."""
    got: Counter[int] = Counter()
    old = signal.signal(signal.SIGUSR2, lambda signum, frame: got.update([signum]))
    yield got
    signal.signal(signal.SIGUSR2, old)


@dataclass
class World:
    """What the placeholders of one sandbox's candidates stand for."""

    runner: int
    target_dir: Path
    listeners: Listeners
    limits: Limits
    signals: Counter[int]
    secret: str = "victim-secret-7f3a9c-not-for-thieves"
    extra: dict[str, str] = field(default_factory=dict)

    def values(self) -> dict[str, str]:
        return {
            "TASK_VALIDATION": str(MINI.validation_dir),
            "TASK_SPEC": str(MINI.spec_dir),
            "REPO": str(REPO),
            "CACHE_DIR": os.environ.get("LOOPTERM_CACHE_DIR", str(Path.home() / ".cache/loopterm")),
            "CONFIG_DIR": os.environ.get("LOOPTERM_CONFIG_DIR", str(Path.home() / ".config/loopterm")),
            "TARGET_DIR": str(self.target_dir),
            "RUNNER_PID": str(self.runner),
            "ENGINE_PID": str(os.getpid()),
            "TCP_PORT": str(self.listeners.tcp.getsockname()[1]),
            "UDP_PORT": str(self.listeners.udp.getsockname()[1]),
            "ABSTRACT": self.listeners.abstract,
            "UNIX_PATH": self.listeners.path,
            "MEMORY_MIB": str(self.limits.memory_mib),
            "THREADS": str(self.limits.threads),
            "SECRET": self.secret,
            **self.extra,
        }

    def source(self, name: str) -> str:
        text = (REDTEAM / f"{name}.py").read_text()
        for key, value in self.values().items():
            text = text.replace(f"@@{key}@@", value)
        left = re.findall(r"@@[A-Z_]+@@", text)
        assert not left, f"{name}: no value for {left}"
        return text

    @property
    def zygote(self) -> int | None:
        return zygote_of(self.runner)


def zygote_of(runner: int) -> int | None:
    """The runner's warm process (its child running loopterm.sandbox.zygote)."""
    for child in children(runner):
        try:
            if b"loopterm.sandbox.zygote" in Path(f"/proc/{child}/cmdline").read_bytes():
                return int(child)
        except OSError:
            continue
    return None


def candidates(world: World) -> list[int]:
    """The candidate processes running now (the warm process's children)."""
    zygote = world.zygote
    return [] if zygote is None else children(zygote)


async def candidate_gone(world: World) -> None:
    """The last candidate is gone (reaped by the warm process): nothing it did is still on its way."""
    await wait_for(lambda: not candidates(world), what="the candidate to be reaped")


async def running_first(world: World, validation: Awaitable[ValidationResult]) -> asyncio.Task[ValidationResult]:
    """``validation`` started alone, once its candidate's process runs: what starts next runs beside it."""
    await candidate_gone(world)
    task = asyncio.create_task(validation)
    await wait_for(lambda: candidates(world), what="the candidate's process")
    return task


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def sched_state(pid: int) -> tuple[int, frozenset[int], int]:
    return os.getpriority(os.PRIO_PROCESS, pid), frozenset(os.sched_getaffinity(pid)), os.sched_getscheduler(pid)


def restore_sched(pid: int, state: tuple[int, frozenset[int], int]) -> None:
    """Put back what an attack changed (only ever called when it did)."""
    prio, cpus, policy = state
    for undo in (
        lambda: os.setpriority(os.PRIO_PROCESS, pid, prio),
        lambda: os.sched_setaffinity(pid, cpus),
        lambda: os.sched_setscheduler(pid, policy, os.sched_param(0)),
    ):
        with contextlib.suppress(OSError):
            undo()


def peak_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def reset_peak_rss(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def lines(result: ValidationResult, prefix: str) -> list[str]:
    return [line for line in result.output.splitlines() if line.startswith(prefix)]


def number(result: ValidationResult, prefix: str) -> int:
    found = lines(result, prefix + " ")
    assert found, f"the candidate printed no {prefix} line; output: {result.output[:1500]!r}"
    return max(int(line.split()[1]) for line in found)


def raw_controls(text: str) -> list[str]:
    bad = {
        ch
        for ch in text
        if (ord(ch) < 32 and ch not in "\n\t") or 0x7F <= ord(ch) <= 0x9F or ch in BIDI or 0xD800 <= ord(ch) <= 0xDFFF
    }
    return sorted(repr(ch) for ch in bad)


def describe(result: ValidationResult) -> str:
    checks = "; ".join(f"{c.id}={'ok' if c.passed else c.message[:160]!r}" for c in result.checks)
    return (
        f"{result.status} {result.passed}/{result.total} error={result.error!r} "
        f"infra={result.infrastructure_error!r} checks: {checks} output: {result.output[-1500:]!r}"
    )


def assert_contained(name: str, result: ValidationResult) -> None:
    """The verdict of a hostile candidate: its own FAIL/PARTIAL, no more than its honest part earns."""
    why = describe(result)
    assert result.infrastructure_error is None, f"{name}: its misbehaviour became the sandbox's failure: {why}"
    assert result.status != "PASS", f"{name}: forged a PASS: {why}"
    by_id = {c.id: c for c in result.checks}
    assert [c.id for c in result.checks] == ["hello", "echo", "missing"], why
    assert not by_id["echo"].passed, f"{name}: the deliberately wrong /echo passed: {why}"
    assert result.passed <= 2, why
    if name in HONEST:
        assert (result.status, result.passed, by_id["hello"].passed, by_id["missing"].passed) == (
            "PARTIAL",
            2,
            True,
            True,
        ), f"{name}: the attack changed the honest part's verdict: {why}"
    assert "\n" not in (result.error or ""), why
    worked = lines(result, "ESCAPED") + lines(result, "REACHED")
    assert not worked, f"{name}: the attack worked: {worked[:10]}"


# -- one sandbox for every candidate alone ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
async def box() -> AsyncIterator[Sandbox]:
    async with Sandbox(MINI, limits=LIMITS) as sandbox:
        yield sandbox


@pytest.fixture
def world(box: Sandbox, listeners: Listeners, engine_signals: Counter[int], tmp_path: Path) -> World:
    assert box.worker_pid is not None
    target = tmp_path / "outside"
    target.mkdir()
    return World(box.worker_pid, target, listeners, LIMITS, engine_signals)


Special = Callable[[Sandbox, World, str], Awaitable[ValidationResult]]
SPECIAL: dict[str, Special] = {}


def special(*names: str) -> Callable[[Special], Special]:
    def register(fn: Special) -> Special:
        for name in names:
            SPECIAL[name] = fn
        return fn

    return register


@pytest.mark.anyio
@pytest.mark.parametrize("name", HOSTILE)
async def test_a_hostile_candidate_alone_fails_only_itself(name: str, box: Sandbox, world: World) -> None:
    start = time.monotonic()
    run = SPECIAL.get(name)
    result = await (run(box, world, name) if run else box.validate(world.source(name)))
    assert_contained(name, result)
    # Every validation ends within its own limits (plus the kill and report), whatever it tried.
    assert time.monotonic() - start < LIMITS.wall_s + 8, describe(result)
    # The sandbox is still whole: a fresh honest candidate still gets its real verdict.
    after = await box.validate(REFERENCE)
    assert (after.status, after.passed, after.infrastructure_error) == ("PASS", 3, None), describe(after)


@special("escape_write_outside")
async def _write_outside(box: Sandbox, world: World, name: str) -> ValidationResult:
    root = Path(os.readlink(f"/proc/{world.runner}/cwd"))  # the sandbox's folder, beside every job folder
    result = await box.validate(world.source(name))
    appeared = [str(p) for p in world.target_dir.iterdir()]
    appeared += [
        p
        for p in (
            f"{root}/pwned-root",
            "/tmp/loopterm-redteam-pwned",
            "/dev/shm/loopterm-redteam-pwned",
            f"{REDTEAM}/PWNED",
        )
        if os.path.lexists(p)
    ]
    for path in appeared:
        Path(path).unlink(missing_ok=True)
    assert not appeared, f"files written outside the candidate's folder: {appeared}"
    assert len(lines(result, "REFUSED")) >= 14, result.output[:3000]
    return result


@special("escape_network", "escape_unix_sockets")
async def _network(box: Sandbox, world: World, name: str) -> ValidationResult:
    result = await box.validate(world.source(name))
    await candidate_gone(world)  # whatever it sent has landed
    assert world.listeners.heard() == [], "a candidate reached a socket outside the sandbox"
    assert lines(result, "REFUSED"), result.output[:3000]
    return result


@special("escape_signals")
async def _signals(box: Sandbox, world: World, name: str) -> ValidationResult:
    zygote = world.zygote
    assert zygote is not None
    before = sum(world.signals.values())
    result = await box.validate(world.source(name))
    await candidate_gone(world)  # whatever it sent has landed
    assert alive(world.runner) and alive(zygote), "a candidate killed the check runner or the warm process"
    assert box.worker_pid == world.runner and zygote_of(world.runner) == zygote
    assert sum(world.signals.values()) == before, "a candidate signalled the engine"
    return result


@special("escape_sched_parent")
async def _sched_parent(box: Sandbox, world: World, name: str) -> ValidationResult:
    zygote = world.zygote
    assert zygote is not None
    pids = {"zygote": zygote, "runner": world.runner, "engine": os.getpid()}
    before = {who: sched_state(pid) for who, pid in pids.items()}
    result = await box.validate(world.source(name))
    after = {who: sched_state(pid) for who, pid in pids.items()}
    changed = {who: (before[who], after[who]) for who in pids if before[who] != after[who]}
    for who in changed:
        restore_sched(pids[who], before[who])
    assert not changed, f"a candidate changed the scheduling of {changed} (priority, cpus, policy)"
    return result


@special("exhaust_disk_quota")
async def _disk(box: Sandbox, world: World, name: str) -> ValidationResult:
    result = await box.validate(world.source(name))
    held = number(result, "HELD")
    assert held <= LIMITS.quota_mib, f"wrote {held} MiB in a folder whose quota is {LIMITS.quota_mib} MiB"
    return result


@special("exhaust_threads")
async def _threads(box: Sandbox, world: World, name: str) -> ValidationResult:
    result = await box.validate(world.source(name))
    # Limits.threads is the candidate's budget of threads. Either the kernel held it there (COUNT),
    # or the runner's watchdog stopped it soon after it went past, long before the pid space runs out.
    texts = [result.error or "", *(c.message for c in result.checks)]
    stopped = [re.search(r"started (\d+) threads \(limit (\d+)\)", t) for t in texts]
    found = next((m for m in stopped if m), None)
    if found is None:
        count = number(result, "COUNT")
        assert count <= LIMITS.threads, f"started {count} threads; the budget is {LIMITS.threads}"
    else:
        assert int(found.group(2)) == LIMITS.threads
        pid_max = int(Path("/proc/sys/kernel/pid_max").read_text())
        assert int(found.group(1)) < min(2000, pid_max // 4), found.group(0)
    return result


@special("exhaust_fds")
async def _fds(box: Sandbox, world: World, name: str) -> ValidationResult:
    result = await box.validate(world.source(name))
    count = number(result, "COUNT")
    assert count <= LIMITS.open_files, f"held {count} descriptors; the limit is {LIMITS.open_files}"
    return result


@special("exhaust_memfd", "exhaust_socket_buffers")
async def _kernel_memory(box: Sandbox, world: World, name: str) -> ValidationResult:
    result = await box.validate(world.source(name))
    held = number(result, "HELD")
    assert held <= LIMITS.memory_mib, (
        f"{name}: held {held} MiB of memory the kernel keeps for it, past its {LIMITS.memory_mib} MiB limit"
    )
    return result


@special("runner_gzip_bomb", "runner_codec_bomb", "exhaust_huge_body", "proto_frame_flood")
async def _runner_memory(box: Sandbox, world: World, name: str) -> ValidationResult:
    await box.validate(REFERENCE)  # warm: the runner's own peak is set by an ordinary validation
    reset_peak_rss(world.runner)
    base = peak_rss_kib(world.runner)
    result = await box.validate(world.source(name))
    grew = (peak_rss_kib(world.runner) - base) // 1024
    assert grew < 64, f"{name}: the check runner (shared by every lane) grew by {grew} MiB for one candidate"
    return result


async def beside_an_honest_one(box: Sandbox, world: World, name: str, *, timed: bool) -> ValidationResult:
    # An honest candidate a little slower than instant (its handlers take 0.5 s), validated while the
    # hostile one runs: it must get its real verdict (and, when ``timed``, in about its usual time).
    slow = REFERENCE.replace("async def hello():\n", "async def hello():\n    await asyncio.sleep(0.5)\n")
    slow = slow.replace(
        "async def echo(request: Request):\n", "async def echo(request: Request):\n    await asyncio.sleep(0.5)\n"
    )
    slow = "import asyncio\n" + slow
    alone = await box.validate(slow)
    assert alone.status == "PASS", describe(alone)
    # "Its usual time" is measured, not assumed: the same honest validation beside a second honest
    # one, just before, on the same machine under the same load. A check runner the hostile
    # candidate held up would keep its neighbour waiting seconds (its check timeouts), far past
    # three times that; a merely busy machine slows both measurements alike.
    usual, _ = await honest_beside(box, world, slow, slow, "an honest one")
    took, result = await honest_beside(box, world, slow, world.source(name), name)
    if timed:
        assert took < 3 * usual, f"{name} slowed an honest validation beside it from {usual:.2f} s to {took:.2f} s"
    return result


async def honest_beside(
    box: Sandbox, world: World, honest: str, other: str, label: str
) -> tuple[float, ValidationResult]:
    """Validate ``honest``, then ``other`` once it runs; the honest one's time and ``other``'s result."""
    await candidate_gone(world)  # timed from here: not the wait for the last one's reaping
    start = time.monotonic()
    pending = await running_first(world, box.validate(honest))
    result = await box.validate(other)
    beside = await pending
    took = time.monotonic() - start
    assert (beside.status, beside.passed, beside.infrastructure_error) == ("PASS", 3, None), (
        f"{label} failed an honest candidate validated beside it: {describe(beside)}"
    )
    return took, result


@special("runner_punycode", "proto_where_flood")
async def _runner_time(box: Sandbox, world: World, name: str) -> ValidationResult:
    # These aim at the check runner's time (one event loop for every lane): an honest neighbour must not wait.
    return await beside_an_honest_one(box, world, name, timed=True)


@special("exhaust_busy_async", "exhaust_endless_stdout", "exhaust_endless_body")
async def _own_cpu(box: Sandbox, world: World, name: str) -> ValidationResult:
    # These burn their own CPU (two cores are shared fairly, so not timed): the neighbour's verdict stands.
    return await beside_an_honest_one(box, world, name, timed=False)


@special("reach_other_candidate")
async def _thief(box: Sandbox, world: World, name: str) -> ValidationResult:
    # The victim runs before the thief starts: it writes its secret as it loads and holds it
    # through its checks (0.8 s each), while the thief looks for a whole second.
    victim = await running_first(world, box.validate(world.source("_victim")))
    result = await box.validate(world.source(name))
    honest = await victim
    assert world.secret not in result.output, "a candidate read another candidate's secret"
    assert "TARGETS" in result.output, result.output[:2000]
    assert (honest.status, honest.passed, honest.infrastructure_error) == ("PASS", 3, None), describe(honest)
    return result


def terminal_text(result: ValidationResult) -> str:
    """What ``loopterm validate`` sends a terminal for ``result``."""
    import contextlib

    from loopterm.commands import validate

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        validate.print_report(result, Path("candidate.py"), None, 1, ["audit-hook"])
    return buffer.getvalue()


@special(*BY_GROUP["ansi"])
async def _escapes(box: Sandbox, world: World, name: str) -> ValidationResult:
    result = await box.validate(world.source(name))
    carried = [result.error or "", result.output, *(c.message for c in result.checks)]
    assert any("\x1b" in text or "\ud800" in text for text in carried), (
        f"{name}: the payload never reached the result, so this checks nothing: {describe(result)}"
    )
    shown = terminal_text(result)
    assert raw_controls(shown) == [], f"{name}: sent to the terminal raw: {raw_controls(shown)}"
    shown.encode("utf-8")  # no lone surrogate left
    return result


# -- the built-in task's reference, on disk -------------------------------------------------------------------


@pytest.mark.anyio
async def test_the_quote_approval_reference_cannot_be_served_by_a_candidate(
    listeners: Listeners, tmp_path: Path
) -> None:
    task = find_task("quote-approval")
    async with Sandbox(task, limits=LIMITS.model_copy(update={"run_timeout_s": 10.0})) as sandbox:
        assert sandbox.worker_pid is not None
        source = World(sandbox.worker_pid, tmp_path, listeners, LIMITS, Counter()).source("forge_exec_qa_reference")
        result = await sandbox.validate(source)
    assert result.infrastructure_error is None, describe(result)
    assert result.status != "PASS", (
        f"a candidate passed {result.passed}/{result.total} by serving the task's own reference: "
        f"{lines(result, 'REACHED')}"
    )
    assert not lines(result, "REACHED"), f"the candidate read and served the reference: {lines(result, 'REACHED')}"


# -- raced beside an honest lane -------------------------------------------------------------------------------

ANSWERS: dict[str, list[str]] = {}  # model name -> the code of its 1st, 2nd, ... answer (the last repeats)
HONEST_FIRST = REFERENCE.replace("    return await request.json()", '    return {"echo": "unfinished"}')
assert HONEST_FIRST != REFERENCE


def fake_openai() -> FastAPI:
    """An OpenAI-compatible server answering each model with its scripted code, streamed."""
    app = FastAPI()
    hits: Counter[str] = Counter()

    @app.post("/v1/chat/completions")
    async def chat(request: Request) -> StreamingResponse:
        body = await request.json()
        model = body["model"]
        hits[model] += 1
        codes = ANSWERS[model]
        code = codes[min(hits[model], len(codes)) - 1].rstrip("\n") + "\n"
        text = f"Here is the file.\n```python\n{code}```\n"
        base = {"id": "chatcmpl-rt", "object": "chat.completion.chunk", "created": int(time.time()), "model": model}

        def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
            data = {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
            return f"data: {json.dumps(data)}\n\n"

        async def stream() -> AsyncIterator[str]:
            yield chunk({"role": "assistant", "content": ""})
            for i in range(0, len(text), 4000):
                yield chunk({"content": text[i : i + 4000]})
            yield chunk({}, "stop")
            usage = {"prompt_tokens": 100, "completion_tokens": len(text) // 4, "total_tokens": 100 + len(text) // 4}
            yield f"data: {json.dumps({**base, 'choices': [], 'usage': usage})}\n\n"
            yield "data: [DONE]\n\n"

        return StreamingResponse(stream(), media_type="text/event-stream")

    return app


@pytest.fixture(scope="module")
def provider_url() -> Iterator[str]:
    saved = os.environ.get("REDTEAM_FAKE_KEY")
    os.environ["REDTEAM_FAKE_KEY"] = "sk-redteam-fake-not-a-key"
    with serve(fake_openai()) as url:
        yield url
    if saved is None:
        os.environ.pop("REDTEAM_FAKE_KEY", None)
    else:
        os.environ["REDTEAM_FAKE_KEY"] = saved


@pytest.fixture(scope="module")
def race_task(tmp_path_factory: pytest.TempPathFactory) -> Task:
    """The mini task with the prompts a race needs (its suite and reference are the same files)."""
    spec = tmp_path_factory.mktemp("spec") / "mini"
    spec.mkdir()
    (spec / "rules.md").write_text((MINI.spec_dir / "rules.md").read_text())
    (spec / "openapi.yaml").write_text(
        "openapi: 3.1.0\ninfo: {title: mini, version: '1'}\npaths:\n"
        "  /hello: {get: {responses: {'200': {description: '{\"msg\": \"hello\"}'}}}}\n"
        "  /echo: {post: {responses: {'200': {description: the JSON body it was sent}}}}\n"
    )
    (spec / "prompt.md").write_text("Implement this API as one FastAPI file defining `app`.\n\n$openapi\n\n$rules\n")
    (spec / "fix_prompt.md").write_text("Turn $turn. Your file:\n\n$code\n\nFeedback:\n$feedback\n\n$rules\n")
    return Task("mini", spec, MINI.validation_dir)


@pytest.fixture(scope="module")
async def race_box(race_task: Task) -> AsyncIterator[Sandbox]:
    async with Sandbox(race_task, limits=RACE_LIMITS) as sandbox:
        yield sandbox


@dataclass
class Raced:
    events: list[Any]
    printed: str
    folder: Path

    def of(self, lane: str, cls: type) -> list[Any]:
        return [e for e in self.events if isinstance(e, cls) and e.lane == lane]

    def honest(self) -> tuple[Outcome, int, list[tuple[TurnStatus, float, int]]]:
        (done,) = self.of("honest", LaneDone)
        return done.outcome, done.turns, [(t.status, t.score, t.passed) for t in self.of("honest", TurnDone)]


def lane(name: str, model: str, url: str) -> Lane:
    return Lane(
        name=name,
        provider="openai",
        model=model,
        base_url=f"{url}/v1",
        api_key_env="REDTEAM_FAKE_KEY",
        max_retries=0,
        timeout_s=60,
    )


async def run_one_race(tag: str, hostile: dict[str, str], url: str, sandbox: Sandbox, task: Task, root: Path) -> Raced:
    """The honest lane (2/3 on turn 1, the reference on turn 2) beside ``hostile`` (lane name -> code)."""
    ANSWERS[f"honest~{tag}"] = [HONEST_FIRST, REFERENCE]
    lanes = [lane("honest", f"honest~{tag}", url)]
    for name, code in hostile.items():
        ANSWERS[f"{name}~{tag}"] = [code]
        lanes.append(lane(name, f"{name}~{tag}", url))
    events: list[Any] = []
    buffer = io.StringIO()
    printer = PlainPrinter(Console(file=buffer, width=200, highlight=False))
    writer = TraceWriter(root)
    await run_race(
        lanes,
        RaceConfig(max_turns=2, thrash_k=3, seed=1),
        [writer, events.append, printer],
        task=task,
        validator=sandbox,
    )
    assert writer.folder is not None
    return Raced(events, buffer.getvalue(), writer.folder)


@pytest.fixture(scope="module")
async def baseline(
    provider_url: str, race_box: Sandbox, race_task: Task, tmp_path_factory: pytest.TempPathFactory
) -> Raced:
    raced = await run_one_race("baseline", {}, provider_url, race_box, race_task, tmp_path_factory.mktemp("baseline"))
    outcome, turns, scores = raced.honest()
    assert (outcome, turns) == (Outcome.PASS, 2), raced.printed
    assert [s[0] for s in scores] == [TurnStatus.PARTIAL, TurnStatus.PASS], raced.printed
    return raced


@pytest.mark.anyio
@pytest.mark.parametrize("group", GROUPS)
async def test_hostile_lanes_raced_beside_an_honest_lane(
    group: str,
    provider_url: str,
    race_box: Sandbox,
    race_task: Task,
    baseline: Raced,
    listeners: Listeners,
    engine_signals: Counter[int],
    tmp_path: Path,
) -> None:
    runner = race_box.worker_pid
    assert runner is not None
    target = tmp_path / "outside"
    target.mkdir()
    world = World(runner, target, listeners, RACE_LIMITS, engine_signals)
    zygote = world.zygote
    assert zygote is not None
    watched = {"zygote": zygote, "runner": runner, "engine": os.getpid()}
    sched_before = {who: sched_state(pid) for who, pid in watched.items()}
    signals_before = sum(engine_signals.values())

    names = BY_GROUP[group]
    hostile = {name.replace("_", "-"): world.source(name) for name in names}
    reset_peak_rss(runner)
    base_rss = peak_rss_kib(runner)
    start = time.monotonic()
    raced = await run_one_race(group, hostile, provider_url, race_box, race_task, tmp_path / "traces")
    took = time.monotonic() - start
    grew = (peak_rss_kib(runner) - base_rss) // 1024 if alive(runner) else 0

    sched_after = {who: sched_state(pid) for who, pid in watched.items()}
    changed = {who: (sched_before[who], sched_after[who]) for who in watched if sched_before[who] != sched_after[who]}
    for who in changed:
        restore_sched(watched[who], sched_before[who])

    problems: list[str] = []
    for name in hostile:
        (done,) = raced.of(name, LaneDone)
        turns = raced.of(name, TurnDone)
        validations = raced.of(name, ValidationDone)
        if done.outcome in (Outcome.PASS, Outcome.ERROR):
            problems.append(f"{name}: lane ended {done.outcome.value}: {done.reason}")
        for v in validations:
            if v.result.infrastructure_error is not None:
                problems.append(f"{name}: turn {v.turn}: infrastructure error {v.result.infrastructure_error}")
            if v.result.status == "PASS":
                problems.append(f"{name}: turn {v.turn}: PASS {describe(v.result)}")
            worked = lines(v.result, "ESCAPED") + lines(v.result, "REACHED")
            if worked:
                problems.append(f"{name}: turn {v.turn}: {worked[:3]}")
        if any(t.status is TurnStatus.ERROR for t in turns):
            problems.append(f"{name}: an ERROR turn")
    honest = raced.honest()
    # Held up means many times its own time alone, measured just before on this machine: a ratio, so
    # a busy machine (which slows both) cannot fail it; a stalled check runner costs seconds.
    alone_ms = max(v.result.duration_ms for v in baseline.of("honest", ValidationDone))
    during = [v.result.duration_ms for v in raced.of("honest", ValidationDone)]
    slow = [round(ms) for ms in during if ms > 10 * alone_ms]
    if slow:
        problems.append(
            f"the honest lane's validations were held up: {slow} ms (alone: "
            f"{[round(v.result.duration_ms) for v in baseline.of('honest', ValidationDone)]} ms)"
        )
    if honest != baseline.honest():
        detail = [describe(v.result) for v in raced.of("honest", ValidationDone)]
        problems.append(f"the honest lane changed: {honest} instead of {baseline.honest()}: {detail}")
    if changed:
        problems.append(f"scheduling changed: {changed}")
    if grew >= 128:
        problems.append(f"the check runner (shared by every lane) grew by {grew} MiB during the race")
    if sum(engine_signals.values()) != signals_before:
        problems.append("the engine received a signal from a candidate")
    if not (alive(runner) and alive(zygote)) or race_box.worker_pid != runner:
        problems.append("the check runner or the warm process died")
    heard = listeners.heard()
    if heard:
        problems.append(f"sockets outside were reached: {heard}")
    if list(target.iterdir()):
        problems.append(f"files appeared outside: {list(target.iterdir())}")
    if raw_controls(raced.printed):
        problems.append(f"the live printer sent {raw_controls(raced.printed)} raw")
    trace = read_race(raced.folder)
    if trace.status != "complete":
        problems.append(f"the trace is {trace.status}: {trace.warnings}")
    print(
        f"{group}: {took:.1f} s; runner grew {grew} MiB; honest validations "
        f"{[round(v.result.duration_ms) for v in raced.of('honest', ValidationDone)]} ms "
        f"(baseline {[round(v.result.duration_ms) for v in baseline.of('honest', ValidationDone)]} ms)"
    )
    assert not problems, "\n".join(problems)
