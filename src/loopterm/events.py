"""The event vocabulary of a race: everything that happens is one of these.

Live races, replays, the TUI, the plain printer, traces and stats all speak
this one stream. Each event carries ``t``: seconds since the race started on a
monotonic clock. Each serialised event carries ``schema`` so a reader can refuse
a trace written by a newer loopterm instead of misreading it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from loopterm.outcomes import Outcome, TurnStatus

SCHEMA_VERSION = 1

__all__ = ["Outcome", "TurnStatus"]  # re-exported: every layer above imports them from here


class Phase(StrEnum):
    """What a lane is doing right now (for live panes)."""

    WAITING = "waiting"  # request sent, no token yet
    GENERATING = "generating"
    VALIDATING = "validating"
    DONE = "done"


class Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=False)


class TokenUsage(Model):
    """Tokens of one generation; ``estimated`` when the provider gave none."""

    prompt: int = 0
    completion: int = 0
    reasoning: int = 0
    estimated: bool = False


class RetryRecord(Model):
    """One retried attempt: which error kind, and how long we waited after it."""

    kind: str
    message: str
    wait_s: float


class CheckResult(Model):
    """One check of the validation suite against one candidate."""

    id: str
    group: str
    description: str
    passed: bool
    message: str = ""
    duration_ms: float = 0.0


class ValidationResult(Model):
    """A whole validation: the scored outcome of one candidate file."""

    task: str
    score: float
    passed: int
    total: int
    status: Literal["PASS", "PARTIAL", "FAIL"]
    error: str | None = None
    duration_ms: float
    checks: list[CheckResult] = Field(default_factory=list)
    output: str = ""  # candidate's captured stdout/stderr, capped
    # Set when the sandbox itself failed (its worker died or hung): not the model's fault.
    infrastructure_error: str | None = None

    @property
    def failing(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.passed]


class LaneInfo(Model):
    """A lane as recorded in a trace: never holds a secret, only the env var name."""

    run_id: str
    name: str
    provider: str
    model: str
    lane_class: str = ""
    base_url: str | None = None
    api_key_env: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    price_in: float | None = None
    price_out: float | None = None
    simulated: bool = False
    run_index: int = 0
    # Loop strategies (README "Strategies"); the defaults are a plain lane, so older traces read as one.
    candidates: int = 1  # answers asked for concurrently each turn; the first full pass wins
    gate: str = "import"  # the cheap check before the suite: "import" or the task's "smoke" subset
    escalate: EscalateInfo | None = None  # a lane that hands over from one model to another
    budget_tokens: int | None = None  # every candidate's tokens, summed over the lane
    budget_cost: float | None = None  # every candidate's cost in USD, summed over the lane


class EscalateInfo(Model):
    """An escalating lane: ``first`` runs until ``after`` turns pass without a PASS, then ``then``."""

    first: LaneInfo
    then: LaneInfo
    after: int


class _Event(Model):
    schema_version: int = Field(default=SCHEMA_VERSION, alias="schema")
    t: float
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class RaceStarted(_Event):
    type: Literal["race_started"] = "race_started"
    race_id: str
    task_id: str
    task_hash: str
    lanes: list[LaneInfo]
    max_turns: int
    thrash_k: int
    budget_s: float | None = None
    time_scale: float = 1.0
    seed: int | None = None
    started_at: str  # RFC 3339 UTC wall-clock, for people; ``t`` is the truth
    loopterm_version: str
    kind: Literal["race", "bench", "rescore"] = "race"
    bench_id: str | None = None
    rescore_of: str | None = None

    @property
    def is_bench(self) -> bool:
        """A benchmark's runs (or a rescore of one): independent samples, so no places and no race clock."""
        return self.kind == "bench" or self.bench_id is not None

    @property
    def timed_from_race_start(self) -> bool:
        """Whether a lane's time to pass counts from the race start rather than its own start.

        In a race every lane starts with the race, and its time to pass is read
        against the same clock as the pane timers. A benchmark's runs wait for
        a ``--concurrency`` slot, so each is timed from its own start.
        """
        return self.bench_id is None


class LaneStarted(_Event):
    type: Literal["lane_started"] = "lane_started"
    lane: str  # run_id


class TurnStarted(_Event):
    type: Literal["turn_started"] = "turn_started"
    lane: str
    turn: int
    model: str = ""  # the model lane in charge this turn (an escalation's first or then); "" = the lane's own
    candidates: int = 1


class GenerationProgress(_Event):
    """Streaming progress, throttled by the engine to a few per second per lane."""

    type: Literal["generation_progress"] = "generation_progress"
    lane: str
    turn: int
    chars: int
    tokens: int  # so far; estimated from characters when the stream has no counts
    first_token: bool = False  # true on the event that marks time to first token
    candidate: int = 0  # index within the turn (a lane with candidates = N asks N at once)


class GenerationDone(_Event):
    type: Literal["generation_done"] = "generation_done"
    lane: str
    turn: int
    text: str
    ttft_s: float | None
    generation_s: float
    usage: TokenUsage = Field(default_factory=TokenUsage)
    cost: float | None = None
    error: str | None = None
    error_kind: str | None = None
    retries: list[RetryRecord] = Field(default_factory=list)
    # What the server or runtime said it spent, in seconds (Ollama's load_s/eval_s, the local
    # model's load_s/queue_s): beside our own clock, so the two can be compared later.
    provider_timing: dict[str, float] = Field(default_factory=dict)
    candidate: int = 0
    cancelled: bool = False  # a losing candidate cut off once another passed the turn


class ValidationDone(_Event):
    type: Literal["validation_done"] = "validation_done"
    lane: str
    turn: int
    code: str | None  # the extracted candidate; None when the answer had no code
    result: ValidationResult
    feedback: str  # exactly what the next turn sends back to the model
    candidate: int = 0
    gate: str | None = None  # the gate run before the suite, if any
    gate_passed: bool | None = None
    gate_s: float = 0.0
    suite_s: float | None = None  # None when the gate failed and the full suite was skipped


class TurnDone(_Event):
    type: Literal["turn_done"] = "turn_done"
    lane: str
    turn: int
    status: TurnStatus
    score: float
    passed: int
    total: int
    best_score: float
    # Implementations compared: check ids the code in place before this turn failed and this turn's passes
    fixed: list[str] = Field(default_factory=list)
    broke: list[str] = Field(default_factory=list)  # ... and the other way round
    # The answer brought no code (none in it, or refused for its size): score, passed and total are those
    # of the implementation still in place (0 before any), and fixed/broke are empty. Traces written
    # before this field scored such a turn 0; the reader reads them as it is now (traces/upgrade.py).
    no_code: bool = False
    model_s: float
    validation_s: float
    harness_s: float
    # Strategies: who ran the turn, which candidate was kept, and what the gate saved.
    model: str = ""
    candidate: int = 0
    candidates: int = 1
    gate_failed: bool = False
    gate_s: float = 0.0
    suite_s: float = 0.0
    tokens: int = 0  # every candidate's tokens this turn
    cost: float | None = None  # every candidate's cost this turn


class LaneDone(_Event):
    type: Literal["lane_done"] = "lane_done"
    lane: str
    outcome: Outcome
    reason: str
    turns: int
    time_to_pass_s: float | None
    best_score: float
    final_score: float
    place: int | None = None  # 1 for the first lane to pass, and so on
    handoff_turn: int | None = None  # an escalation: the first turn its second model ran
    budget: str | None = None  # with outcome BUDGET: "time", "tokens" or "cost"


class RaceDone(_Event):
    type: Literal["race_done"] = "race_done"
    aborted: bool = False


Event = Annotated[
    RaceStarted
    | LaneStarted
    | TurnStarted
    | GenerationProgress
    | GenerationDone
    | ValidationDone
    | TurnDone
    | LaneDone
    | RaceDone,
    Field(discriminator="type"),
]

EVENT_ADAPTER: TypeAdapter[Event] = TypeAdapter(Event)

# What takes the stream one event at a time: a trace writer, a printer, a viewer's state.
# Here, beside the events, so storage (the replay clock) and the viewers name it alike.
EventSink = Callable[[Event], None]


class SchemaError(ValueError):
    """A trace line that is not an event of a schema this loopterm reads: damaged, skip it."""


class NewerSchemaError(SchemaError):
    """A trace line written by a newer loopterm: refuse the trace rather than misread it."""


def newer_schema(version: object) -> bool:
    """Whether ``version`` is a schema number above the one this loopterm reads (a bool is no number)."""
    return isinstance(version, int) and not isinstance(version, bool) and version > SCHEMA_VERSION


def dump_event(event: _Event) -> str:
    """One JSON line for a trace file.

    Text from outside (a model's answer, a candidate's error) can hold lone
    UTF-16 surrogates (JSON's ``"\\ud800"`` decodes to one), which UTF-8
    cannot encode: such an event is written with each of them as U+FFFD, so
    one lane's odd text never stops the race's trace.
    """
    try:
        return event.model_dump_json(by_alias=True)
    except ValueError:  # pydantic's "surrogates not allowed"
        return json.dumps(
            _no_surrogates(event.model_dump(by_alias=True, mode="python")),
            ensure_ascii=False,
            separators=(",", ":"),
            default=str,
        )


def _no_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value) if _has_surrogate(value) else value
    if isinstance(value, dict):
        return {k: _no_surrogates(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_no_surrogates(v) for v in value]
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def load_event(line: str | bytes) -> Event:
    """Parse one trace line.

    Raises ``NewerSchemaError`` only when ``schema`` is an int above
    ``SCHEMA_VERSION``; ``SchemaError`` for JSON that is no event of ours (not
    an object, no schema, an older or invalid one); ``ValueError`` (a
    ``ValidationError`` or ``JSONDecodeError``) for a malformed line.
    """
    import json

    data = json.loads(line)
    if not isinstance(data, dict):
        raise SchemaError(f"not an event (a JSON {type(data).__name__}, not an object)")
    if "schema" not in data:
        raise SchemaError("not an event (no schema)")
    version = data["schema"]
    if not isinstance(version, int) or isinstance(version, bool):
        raise SchemaError(f"invalid event schema {version!r}")
    if newer_schema(version):
        raise NewerSchemaError(
            f"written by a newer loopterm (event schema {version}; this loopterm reads schema "
            f"{SCHEMA_VERSION}); upgrade loopterm to read this trace"
        )
    if version != SCHEMA_VERSION:
        raise SchemaError(f"event schema {version} is older than any loopterm wrote (it writes {SCHEMA_VERSION})")
    return EVENT_ADAPTER.validate_python(data)
