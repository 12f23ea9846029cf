"""The top line: task, race id, what kind of race, and its status (or REPLAY).

Every part has a fixed width (the clock's digits, the replay badge), so the
line keeps its layout from start to finish: the brand, the spacing and the
simulated note do not come and go as the clock counts, the race ends or a
replay pauses. Only a resize chooses anew.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from loopterm.racestate import RaceState
from loopterm.sanitize import visible
from loopterm.sources import ReplayControls
from loopterm.traces.replay import SPEEDS
from loopterm.tui.repaint import changed_regions

TIME_CELLS = 5  # "999.9": the race clock's digits, reserved so the line does not move as it counts
STATUS_WORD_CELLS = len("finished")  # running / finished / aborted, in one column
BADGE_WORD = {False: "REPLAY", True: "PAUSED"}  # one width: pausing changes the word, not the layout


def status_text(race: RaceState, now: float, time_cells: int = TIME_CELLS) -> str:
    """The race's state and clock in fixed columns: ``"running   5.8 s"``, ``"finished  68.8 s"``.

    The number is right-aligned in ``time_cells`` cells, so the line keeps its
    layout while the clock gains digits and when the race finishes.
    """
    if race.done:
        word, t = ("aborted" if race.aborted else "finished"), race.race_t_end
    else:
        word, t = "running", max(now, 0.0)
    clock = f"{t:.1f}".rjust(time_cells) + " s" if t is not None else " " * (time_cells + 2)
    return f"{word:<{STATUS_WORD_CELLS}} {clock}"


def speed_cells(controls: ReplayControls) -> int:
    """Cells for a replay's "x2": the widest speed its keys can reach, or the one it runs at."""
    return max(len(f"x{speed:g}") for speed in (*SPEEDS, controls.speed))


def badge_text(controls: ReplayControls, cells: int) -> str:
    """``" REPLAY x2   "``, or ``" PAUSED x2   "``: the same width whatever the state and speed."""
    return f" {BADGE_WORD[controls.paused]} {f'x{controls.speed:g}':<{cells}} "


def header_parts(
    race: RaceState, controls: ReplayControls | None, now: float, time_cells: int = TIME_CELLS
) -> tuple[list[str], list[str], str]:
    """(titles longest first, middle texts longest first, status) of the header line."""
    if not race.started:
        return (["loopterm"], ["waiting for the race to start"], "")
    # race, bench or rescore; the ids come from the trace being replayed, so they are shown safely
    title = visible(f"{race.task_id}  {race.kind} {race.race_id}")
    titles = [f"loopterm  {title}", title]
    if race.kind == "race":  # the usual kind says least: it goes before the race id is cut
        titles.append(visible(f"{race.task_id}  {race.race_id}"))
    middle = f"{len(race.lanes)} lanes · max {race.max_turns} turns"
    middles = [middle]
    if race.simulated and race.time_scale != 1:
        # Never dropped before the lane count: sim times are not the profiles' real pace.
        scaled = f"simulated latencies x{race.time_scale:g}"
        middles = [f"{middle} · {scaled}", scaled, f"sim x{race.time_scale:g}"]
    return titles, middles, status_text(race, now, time_cells)


def fit_header(titles: list[str], middles: list[str], status_len: int, width: int) -> tuple[str, str]:
    """The title and the middle text that fit beside a status of ``status_len`` cells.

    For each middle, longest first, the longest title that fits beside it: the
    "loopterm" prefix goes first (it says nothing about this race), then the word
    "race"; then the middle shortens. Only when no middle fits is the title
    itself cut (by the caller), so the status and the race id stay visible.
    Every part has a fixed width for a given race, so the choice holds for the
    whole race (a ticking clock or a pause never changes it).
    """
    for middle in middles:
        for title in titles:
            if len(title) + len(middle) + status_len + 4 <= width:
                return title, middle
    fits = [title for title in titles if len(title) + status_len + 1 <= width]
    return (fits[0] if fits else titles[-1]), ""


class RaceHeader(Widget):
    """The line is rebuilt only when its words change, and only the cells that changed are handed
    to Textual to repaint (a running race's clock: a digit a tick)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "race-header--title",
        "race-header--meta",
        "race-header--status",
        "race-header--replay",
        "race-header--paused",
    }

    def __init__(self, race: RaceState, now: Callable[[], float], controls: ReplayControls | None) -> None:
        super().__init__(id="race-header")
        self.race = race
        self.now = now
        self.controls = controls
        self.text = ""
        self._key: tuple[object, ...] | None = None  # what ``_line`` was built from
        self._line: Text | None = None  # the line on screen, or about to be (refresh sent)
        self._styles: dict[str, Style] = {}
        # Only ever widened (a race past 999.9 s, an odd --speed): narrowing would move the line back.
        self._time_cells = TIME_CELLS
        self._speed_cells = 0

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._restyle())

    def tick(self) -> None:
        """The clock moved: repaint the cells that changed (none once the race is over)."""
        self._repaint()

    def show_news(self) -> None:
        self._repaint()

    def _repaint(self) -> None:
        if not self.is_mounted:
            return
        old = self._line
        if old is None:
            self.refresh()
            return
        line = self._line_now()
        if line is not old:
            regions = changed_regions([old], [line], self.content_size.width)
            if regions:
                self.refresh(*regions)

    def _line_now(self) -> Text:
        controls = self.controls
        replay = (controls.speed, controls.paused) if controls is not None else None
        width = self.content_size.width
        parts = header_parts(self.race, controls, self.now(), self._time_cells)
        if len(parts[2]) > STATUS_WORD_CELLS + 1 + self._time_cells + 2:
            self._time_cells = len(parts[2]) - STATUS_WORD_CELLS - 3
        if controls is not None:
            self._speed_cells = max(self._speed_cells, speed_cells(controls))
        key = (parts, replay, width)
        if self._line is not None and key == self._key:
            return self._line
        self._key = key
        self._line = line = self._build(*parts, width)
        self.text = line.plain
        return line

    def _style(self, name: str) -> Style:
        style = self._styles.get(name)
        if style is None:
            style = self._styles[name] = self.get_component_rich_style(name, partial=True)
        return style

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._restyle()

    def _restyle(self) -> None:
        self._styles.clear()
        self._line = None
        self.refresh()

    def render(self) -> Text:
        # The line the last refresh was computed against (see LanePane._painting_frame); anew
        # only for a new width or styles, when Textual repaints the whole line anyway.
        line = self._line
        if line is None or self._key is None or self._key[-1] != self.content_size.width:
            line = self._line_now()
        return line

    def _build(self, titles: list[str], middles: list[str], right: str, width: int) -> Text:
        style = self._style
        badge = Text()
        if self.controls is not None:
            paused = self.controls.paused
            badge.append(
                badge_text(self.controls, self._speed_cells),
                style("race-header--paused" if paused else "race-header--replay"),
            )
            badge.append(" ")
        status = Text.assemble(badge, (right, style("race-header--status")))
        head_text, middle = fit_header(titles, middles, status.cell_len, width)
        head = Text(head_text, style("race-header--title"))
        meta = Text(middle, style("race-header--meta"))
        room = width - status.cell_len - (2 if meta.cell_len else 1) - meta.cell_len
        if head.cell_len > room:
            head.truncate(max(room, 0), overflow="ellipsis")
        gap = max(1, width - head.cell_len - meta.cell_len - status.cell_len)
        left_gap = gap // 2 if meta.cell_len else gap
        return Text.assemble(
            head, " " * left_gap, meta, " " * (gap - left_gap if meta.cell_len else 0), status, no_wrap=True
        )
