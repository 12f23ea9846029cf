"""The view state of a race, folded from its events by a pure reducer.

The TUI's workers call ``RaceState.apply(event)`` for every event and the
panes repaint from this state at a steady rate. Nothing here reads a clock or
imports Textual: equal event lists give equal states, so a replay's final
state can be compared with the live race's final state.

The state keeps the events' text raw (a candidate's code, the feedback, an
ERROR's reason); the viewer makes its control characters visible as it draws
it (:mod:`loopterm.sanitize`). The two view strings made here, a lane's
display name and a failing check's short message, are made visible already.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from loopterm.events import (
    CheckResult,
    Event,
    GenerationDone,
    GenerationProgress,
    LaneDone,
    LaneInfo,
    LaneStarted,
    Outcome,
    Phase,
    RaceDone,
    RaceStarted,
    TurnDone,
    TurnStarted,
    TurnStatus,
    ValidationDone,
)
from loopterm.sanitize import visible

SHORT_MESSAGE_CHARS = 160


def short_message(check: CheckResult) -> str:
    """One line saying what went wrong, for a pane that has one line per check.

    Check messages usually read "sent <request>; expected <x>; got <y>": the
    request is noise at a glance, so the line starts at "expected" when it can.
    The message quotes the candidate: its control characters are made visible.
    """
    text = " ".join(check.message.split())
    if not text:
        return visible(check.description)
    at = text.find("expected ")
    if at > 0:
        text = text[at:]
    text = visible(text)
    if len(text) > SHORT_MESSAGE_CHARS:
        text = text[: SHORT_MESSAGE_CHARS - 3] + "..."
    return text


@dataclass
class FailingCheck:
    id: str
    group: str
    description: str
    message: str
    short: str
    since_turn: int  # the turn since which it has failed without a break


@dataclass
class TurnRow:
    """One line of a lane's history table; filled in as the turn's events arrive."""

    turn: int
    started_t: float
    status: TurnStatus | None = None  # once the turn is done
    score: float | None = None
    passed: int | None = None
    total: int | None = None
    ttft_s: float | None = None
    generation_s: float | None = None
    model_s: float | None = None
    validation_s: float | None = None
    harness_s: float | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    tokens_estimated: bool = False
    cost: float | None = None
    retries: int = 0
    error: str | None = None
    fixed: list[str] = field(default_factory=list)
    broke: list[str] = field(default_factory=list)
    feedback: str | None = None  # what the validator said about this turn's candidate
    done_t: float | None = None
    # The answer brought no code (none in it, or refused for its size): the score is the code still in place.
    no_code: bool = False


@dataclass
class LaneState:
    info: LaneInfo
    phase: Phase | None = None  # None until the lane's first turn starts
    phase_t: float | None = None  # race time the current phase began
    started_t: float | None = None
    finished_t: float | None = None  # freezes the pane's timer
    turn: int = 0
    tokens: int = 0  # of the current generation, so far
    tokens_per_s: float | None = None
    first_token_t: float | None = None
    first_token_count: int = 0
    passed: int = 0
    total: int = 0
    score: float = 0.0
    best_score: float = 0.0
    scores: list[float] = field(default_factory=list)  # after each finished turn
    score_points: list[tuple[float, float]] = field(default_factory=list)  # (race t, score)
    failing: list[FailingCheck] = field(default_factory=list)  # newest first
    validation_error: str | None = None  # the suite could not run checks at all
    fixed: list[str] = field(default_factory=list)  # by the last finished turn
    broke: list[str] = field(default_factory=list)
    no_code: bool = False  # the last turn's answer brought no code (its score is the code in place)
    last_status: TurnStatus | None = None
    outcome: Outcome | None = None  # once the lane is done
    reason: str = ""
    place: int | None = None
    time_to_pass_s: float | None = None
    latest_code: str | None = None
    latest_code_turn: int | None = None
    latest_feedback: str | None = None
    latest_feedback_turn: int | None = None
    generation_error: str | None = None
    history: list[TurnRow] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        return self.info.run_id

    @property
    def done(self) -> bool:
        return self.outcome is not None

    @property
    def tokens_total(self) -> int:
        return sum(r.prompt_tokens + r.completion_tokens for r in self.history)

    @property
    def tokens_estimated(self) -> bool:
        return any(r.tokens_estimated for r in self.history)

    @property
    def cost(self) -> float | None:
        costs = [r.cost for r in self.history if r.cost is not None]
        return sum(costs) if costs else None

    def row(self, turn: int) -> TurnRow | None:
        for row in reversed(self.history):
            if row.turn == turn:
                return row
        return None


@dataclass
class RaceState:
    """Everything a viewer shows, as plain data. Start empty; ``apply`` each event."""

    race_id: str = ""
    task_id: str = ""
    kind: str = "race"
    max_turns: int = 0
    thrash_k: int = 0
    time_scale: float = 1.0
    seed: int | None = None
    started_at: str = ""
    started: bool = False
    race_t_start: float | None = None
    timed_from_race_start: bool = True  # see RaceStarted.timed_from_race_start
    race_t_end: float | None = None  # set by race_done
    done: bool = False
    aborted: bool = False
    last_t: float = 0.0  # the latest event's time: a floor for any view clock
    lanes: dict[str, LaneState] = field(default_factory=dict)  # in race order
    # Bumped on every event so a view can tell "nothing new"; not part of equality
    # because a viewer may see a different number of throttled progress events.
    version: int = field(default=0, compare=False)
    generation: int = field(default=0, compare=False)  # bumped on every race_started

    @property
    def lane_order(self) -> list[str]:
        return list(self.lanes)

    @property
    def simulated(self) -> bool:
        return any(lane.info.simulated for lane in self.lanes.values())

    def lane(self, run_id: str) -> LaneState | None:
        return self.lanes.get(run_id)

    def display_name(self, run_id: str) -> str:
        """The lane's name, numbered ("Mini (sim) #2") when the race has two lanes of that name.

        Numbered by the raw name; shown with its control characters made visible (a lanes file's).
        """
        lane = self.lanes[run_id]
        same = [other for other in self.lanes.values() if other.info.name == lane.info.name]
        name = visible(lane.info.name)
        return name if len(same) == 1 else f"{name} #{same.index(lane) + 1}"

    def finish_order(self) -> list[LaneState]:
        """Lanes that passed, by place."""
        placed = [lane for lane in self.lanes.values() if lane.place is not None]
        return sorted(placed, key=lambda lane: lane.place or 0)

    def apply(self, event: Event) -> None:
        self.version += 1
        self.last_t = max(self.last_t, event.t)
        if isinstance(event, RaceStarted):
            self._reset(event)
            return
        if isinstance(event, RaceDone):
            self.done = True
            self.aborted = event.aborted
            self.race_t_end = event.t
            return
        lane = self.lanes.get(getattr(event, "lane", ""))
        if lane is None or lane.done:
            return  # a lane this race never announced, or one that already ended
        if isinstance(event, LaneStarted):
            lane.started_t = event.t
        elif isinstance(event, TurnStarted):
            _turn_started(lane, event)
        elif isinstance(event, GenerationProgress):
            _progress(lane, event)
        elif isinstance(event, GenerationDone):
            _generation_done(lane, event)
        elif isinstance(event, ValidationDone):
            _validation_done(lane, event)
        elif isinstance(event, TurnDone):
            _turn_done(lane, event)
        elif isinstance(event, LaneDone):
            _lane_done(lane, event, self.race_t_start if self.timed_from_race_start else None)

    def _reset(self, event: RaceStarted) -> None:
        # A replay restarts by re-sending race_started: forget everything.
        generation = self.generation + 1
        version = self.version
        self.__init__()  # type: ignore[misc]
        self.generation = generation
        self.version = version
        self.race_id = event.race_id
        self.task_id = event.task_id
        self.kind = event.kind
        self.max_turns = event.max_turns
        self.thrash_k = event.thrash_k
        self.time_scale = event.time_scale
        self.seed = event.seed
        self.started_at = event.started_at
        self.started = True
        self.race_t_start = event.t
        self.timed_from_race_start = event.timed_from_race_start
        self.last_t = event.t
        self.lanes = {info.run_id: LaneState(info=info) for info in event.lanes}


def _turn_started(lane: LaneState, event: TurnStarted) -> None:
    lane.turn = event.turn
    lane.phase = Phase.WAITING
    lane.phase_t = event.t
    lane.tokens = 0
    lane.tokens_per_s = None
    lane.first_token_t = None
    lane.first_token_count = 0
    lane.generation_error = None
    lane.history.append(TurnRow(turn=event.turn, started_t=event.t))


def _progress(lane: LaneState, event: GenerationProgress) -> None:
    if lane.phase is not Phase.GENERATING:
        lane.phase = Phase.GENERATING
        lane.phase_t = event.t
    # Fewer tokens than the last reading: the provider retried and the stream
    # starts again, so the rate is timed from this attempt's first reading.
    restarted = event.tokens < lane.tokens
    if event.first_token or lane.first_token_t is None or restarted:
        lane.first_token_t = event.t
        lane.first_token_count = event.tokens
    lane.tokens = event.tokens
    elapsed = event.t - lane.first_token_t
    if elapsed > 0:
        lane.tokens_per_s = (event.tokens - lane.first_token_count) / elapsed


def _generation_done(lane: LaneState, event: GenerationDone) -> None:
    row = lane.row(event.turn)
    if row is not None:
        row.ttft_s = event.ttft_s
        row.generation_s = event.generation_s
        row.prompt_tokens = event.usage.prompt
        row.completion_tokens = event.usage.completion
        row.tokens_estimated = event.usage.estimated
        row.cost = event.cost
        row.retries = len(event.retries)
        row.error = event.error
    if event.usage.completion:
        lane.tokens = event.usage.completion
    streaming_s = event.generation_s - (event.ttft_s or 0.0)
    # After retries the usage also counts the lost attempts' tokens while the
    # timings are the last attempt's: keep the rate its own stream gave.
    if lane.tokens and streaming_s > 0 and not event.retries:
        lane.tokens_per_s = lane.tokens / streaming_s
    if event.error is not None:
        lane.generation_error = event.error
        return
    lane.phase = Phase.VALIDATING
    lane.phase_t = event.t


def _validation_done(lane: LaneState, event: ValidationDone) -> None:
    result = event.result
    if event.code is not None:
        lane.latest_code = event.code
        lane.latest_code_turn = event.turn
    lane.latest_feedback = event.feedback
    lane.latest_feedback_turn = event.turn
    row = lane.row(event.turn)
    if row is not None:
        row.feedback = event.feedback
    lane.no_code = event.code is None
    if row is not None:
        row.no_code = lane.no_code
    if event.code is None:
        # Nothing was validated: the implementation in place is unchanged, and so are its score,
        # its failing checks and its load error; only the mark says this answer had no code.
        return
    lane.passed = result.passed
    lane.total = result.total
    lane.score = result.score
    lane.validation_error = result.error
    since = {check.id: check.since_turn for check in lane.failing}
    failing = [
        FailingCheck(
            id=c.id,
            group=c.group,
            description=c.description,
            message=c.message,
            short=short_message(c),
            since_turn=since.get(c.id, event.turn),
        )
        for c in result.checks
        if not c.passed
    ]
    # Newest failures first; the suite's own order among failures of one age.
    order = {c.id: i for i, c in enumerate(failing)}
    failing.sort(key=lambda c: (-c.since_turn, order[c.id]))
    lane.failing = failing


def _turn_done(lane: LaneState, event: TurnDone) -> None:
    lane.score = event.score
    lane.passed = event.passed
    lane.total = event.total
    lane.best_score = max(lane.best_score, event.best_score)
    lane.scores.append(event.score)
    lane.score_points.append((event.t, event.score))
    lane.fixed = list(event.fixed)
    lane.broke = list(event.broke)
    lane.last_status = event.status
    row = lane.row(event.turn)
    # The mark belongs to the last finished turn, like fixed and broke (an ERROR turn has none).
    lane.no_code = event.no_code or (row is not None and row.no_code)
    if row is not None:
        row.status = event.status
        row.score = event.score
        row.passed = event.passed
        row.total = event.total
        row.model_s = event.model_s
        row.validation_s = event.validation_s
        row.harness_s = event.harness_s
        row.fixed = list(event.fixed)
        row.broke = list(event.broke)
        row.done_t = event.t


def _lane_done(lane: LaneState, event: LaneDone, race_origin: float | None) -> None:
    lane.phase = Phase.DONE
    lane.phase_t = event.t
    lane.finished_t = event.t
    origin = race_origin if race_origin is not None else lane.started_t
    if event.time_to_pass_s is not None and origin is not None:
        # A pass freezes the timer when the passing validation ended, so the pane's clock
        # reads the same as its "PASS in ... s" (the lane's own bookkeeping comes after).
        lane.finished_t = min(event.t, origin + event.time_to_pass_s)
    lane.outcome = event.outcome
    lane.reason = event.reason
    lane.place = event.place
    lane.time_to_pass_s = event.time_to_pass_s
    lane.turn = max(lane.turn, event.turns)
    lane.best_score = max(lane.best_score, event.best_score)
    lane.tokens_per_s = None
