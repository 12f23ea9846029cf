"""Live progress of a benchmark: runs done per lane, passes, mean time to pass, an ETA.

An event sink like the others; the plain bench printer and the viewer both
read it. Only finished runs feed the numbers; the final table is computed
separately from all the events (see :mod:`loopterm.stats.aggregate`).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field

from loopterm.events import Event, LaneDone, LaneStarted, Outcome, RaceStarted, TurnDone, TurnStarted, TurnStatus
from loopterm.sanitize import visible
from loopterm.stats.aggregate import NOT_COUNTED
from loopterm.words import display_name, fmt_estimate, plural


@dataclass
class LaneProgress:
    """One lane's runs so far."""

    name: str
    total: int
    simulated: bool = False
    run_ids: list[str] = field(default_factory=list)  # in plan order
    done: int = 0
    passed: int = 0
    errors: int = 0
    pass_times: list[float] = field(default_factory=list)
    turn_times: list[float] = field(default_factory=list)  # every finished turn, for the ETA
    run_turns: list[int] = field(default_factory=list)  # turns of every finished counted run

    @property
    def label(self) -> str:
        """The lane's name as shown: a simulated lane says so (see :func:`loopterm.words.display_name`), and a
        lanes file's control characters are made visible (see :mod:`loopterm.sanitize`)."""
        return visible(display_name(self.name, self.simulated))

    @property
    def mean_time_to_pass_s(self) -> float | None:
        return _mean(self.pass_times)

    @property
    def mean_turn_s(self) -> float | None:
        return _mean(self.turn_times)

    @property
    def mean_turns(self) -> float | None:
        return _mean(self.run_turns)


def _mean(values: list[float] | list[int]) -> float | None:
    return sum(values) / len(values) if values else None


class BenchProgress:
    """Call it with each event; ask it for per-lane figures and an ETA at any time."""

    def __init__(self, concurrency: int | None = None) -> None:
        self.concurrency = concurrency
        self.lanes: dict[tuple[str, str, str], LaneProgress] = {}
        self.lane_of: dict[str, LaneProgress] = {}  # run_id -> its lane
        self.started: dict[str, float] = {}
        self.turn_at: dict[str, tuple[int, float]] = {}  # run_id -> (current turn, when it started)
        self.turns_ended: dict[str, int] = {}  # run_id -> its turns that ended (a run's turns, as tables count them)
        self.finished: set[str] = set()
        self.aborted = 0  # runs ended ABORTED: the bench is being (or was) stopped
        self.order: list[str] = []  # every run id in plan order (the order runs are admitted)
        self.max_turns = 0  # the turn limit: no run takes a turn past it
        self.now = 0.0

    def __call__(self, event: Event) -> None:
        self.now = max(self.now, event.t)
        if isinstance(event, RaceStarted):
            self.max_turns = event.max_turns
            for info in event.lanes:
                key = (info.name, info.provider, info.model)
                lane = self.lanes.setdefault(key, LaneProgress(info.name, 0, info.simulated))
                lane.total += 1
                lane.run_ids.append(info.run_id)
                self.lane_of[info.run_id] = lane
                self.order.append(info.run_id)
        elif isinstance(event, LaneStarted):
            self.started[event.lane] = event.t
        elif isinstance(event, TurnStarted):
            self.turn_at[event.lane] = (event.turn, event.t)
        elif isinstance(event, TurnDone) and event.lane in self.lane_of:
            self.turns_ended[event.lane] = self.turns_ended.get(event.lane, 0) + 1
            since = self.turn_at.get(event.lane, (0, self.started.get(event.lane, event.t)))[1]
            if event.status != TurnStatus.ERROR:
                self.lane_of[event.lane].turn_times.append(event.t - since)
        elif isinstance(event, LaneDone) and event.lane in self.lane_of:
            lane = self.lane_of[event.lane]
            self.finished.add(event.lane)
            lane.done += 1
            outcome = event.outcome
            if outcome == Outcome.PASS:
                lane.passed += 1
                if event.time_to_pass_s is not None:
                    lane.pass_times.append(event.time_to_pass_s)
            elif outcome == Outcome.ERROR:
                lane.errors += 1
            elif outcome == Outcome.ABORTED:
                self.aborted += 1
            if outcome not in NOT_COUNTED:
                lane.run_turns.append(self.turns_of(event.lane))

    def turns_of(self, run_id: str) -> int:
        """The run's turns that ended: a turn cut short by a stop or a budget is not one."""
        return self.turns_ended.get(run_id, 0)

    @property
    def total(self) -> int:
        return len(self.order)

    @property
    def done(self) -> int:
        return len(self.finished)

    def remaining_s(self, run_id: str, now: float, *, floor: bool = False) -> float | None:
        """What is left of one unfinished run: the rest of its turn, then the turns it should still take.

        From its lane's finished runs, and conditioned on how far this run has
        got, so a run that is long already is never taken for nearly done (an
        ETA that fell to 0 s and sprang back up):

        - the rest of its turn: the mean of the lane's turn times longer than
          this turn has lasted so far, less what it has lasted; half a mean
          turn when it is longer than every turn seen;
        - its turns after this one: the mean turn count of the lane's finished
          runs that got at least this far, less this turn; one more turn when
          it is past every finished run (never past the turn limit); each turn
          the lane's mean turn time.

        None until the lane has finished a run. With ``floor``, a lane with a
        finished turn but no finished run is taken to need as many turns as its
        furthest run has reached so far: a lower bound, since its runs take at
        least that many.
        """
        lane = self.lane_of[run_id]
        if not lane.turn_times or not (lane.run_turns or floor):
            return None
        turn_s = sum(lane.turn_times) / len(lane.turn_times)
        turn, since = self.turn_at.get(run_id, (1, self.started.get(run_id, now)))
        if run_id not in self.started:
            turn, since = 1, now  # waiting for a slot: all of it is ahead
        elapsed = max(0.0, now - since)
        longer = [d - elapsed for d in lane.turn_times if d > elapsed]
        rest = sum(longer) / len(longer) if longer else turn_s / 2
        return rest + self._turns_after(lane, turn) * turn_s

    def _turns_after(self, lane: LaneProgress, turn: int) -> float:
        """Turns a run on ``turn`` is expected to take after it (see ``remaining_s``)."""
        if not lane.run_turns:  # the floor: as far as the lane's furthest run has got
            furthest = max((self.turn_at[r][0] for r in lane.run_ids if r in self.turn_at), default=1)
            return max(0, furthest - turn)
        reached = [n for n in lane.run_turns if n >= turn]
        if reached:
            return sum(reached) / len(reached) - turn
        return 1.0 if turn < self.max_turns else 0.0

    def eta_s(self, now: float | None = None, *, floor: bool = False) -> float | None:
        """Seconds until the last run should end; None until every lane has finished a run.

        Running runs have what is left of them (see ``remaining_s``); waiting
        runs take a free slot (``concurrency`` at once) in plan order, as the
        race admits them. With ``floor`` a lower bound is given as soon as
        every lane has finished a turn (``eta_text`` shows it as "ETA ≥ ...").
        """
        now = self.now if now is None else now
        pending = [rid for rid in self.order if rid not in self.finished]
        if not pending:
            return 0.0
        left: dict[str, float] = {}
        for rid in pending:
            value = self.remaining_s(rid, now, floor=floor)
            if value is None:
                return None
            left[rid] = value
        running = [rid for rid in pending if rid in self.started]
        waiting = [rid for rid in pending if rid not in self.started]
        slots = self.concurrency or len(self.order)
        free_at = [left[rid] for rid in running]
        free_at += [0.0] * max(0, slots - len(running))
        heapq.heapify(free_at)
        end = max(free_at, default=0.0)
        for rid in waiting:
            finish = heapq.heappop(free_at) + left[rid]
            end = max(end, finish)
            heapq.heappush(free_at, finish)
        return end


def state_text(progress: BenchProgress) -> str | None:
    """ "all done", or "stopped · 3 of 10 runs finished" once a run was aborted; None while running."""
    p = progress
    if p.aborted:
        finished = p.done - p.aborted
        return f"stopped · {finished} of {plural(p.total, 'run')} finished"
    if p.done == p.total:
        return "all done"
    return None


def eta_text(progress: BenchProgress, now: float | None, secs: Callable[[float], str] = fmt_estimate) -> str:
    """ "ETA 40 s"; "ETA ≥ 40 s" while a lane has no finished run; "ETA ?" before any turn ended.

    ``secs`` formats the seconds: an estimate's formatter (:func:`loopterm.words.fmt_estimate`) unless told.
    """
    eta = progress.eta_s(now)
    if eta is not None:
        return f"ETA {secs(eta)}"
    floor = progress.eta_s(now, floor=True)
    # A floor under a second says nothing ("ETA ≥ <1 s"): as unknown as no floor at all.
    return "ETA ?" if floor is None or floor < 1 else f"ETA ≥ {secs(floor)}"
