"""The top line: task, race id, what kind of race, and its status (or REPLAY)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from loopterm.racestate import RaceState
from loopterm.sanitize import visible
from loopterm.sources import ReplayControls
from loopterm.tui.repaint import changed_regions


def header_parts(race: RaceState, controls: ReplayControls | None, now: float) -> tuple[str, list[str], str]:
    """(left, middle texts longest first, right) of the header line."""
    if not race.started:
        return ("loopterm", ["waiting for the race to start"], "")
    # race, bench or rescore; the ids come from the trace being replayed, so they are shown safely
    left = visible(f"loopterm  {race.task_id}  {race.kind} {race.race_id}")
    middle = f"{len(race.lanes)} lanes · max {race.max_turns} turns"
    middles = [middle]
    if race.simulated and race.time_scale != 1:
        # Never dropped before the lane count: sim times are not the profiles' real pace.
        scaled = f"simulated latencies x{race.time_scale:g}"
        middles = [f"{middle} · {scaled}", scaled, f"sim x{race.time_scale:g}"]
    if race.done:
        right = "aborted" if race.aborted else "finished"
        if race.race_t_end is not None:
            right += f" {race.race_t_end:.1f} s"
    else:
        right = f"running {max(now, 0.0):.1f} s"
    return left, middles, right


def fit_header(left: str, middles: list[str], status_len: int, width: int) -> tuple[str, str]:
    """The title and the middle text that fit beside a status of ``status_len`` cells.

    The "loopterm" prefix is the first to go (it says nothing about this race), then the
    middle shortens step by step; only then is the title itself cut (by the caller), so the
    status and the race id stay visible.
    """
    heads = [left]
    if left.startswith("loopterm  "):
        heads.append(left.removeprefix("loopterm  "))
    for middle in middles:
        for head in heads:
            if len(head) + len(middle) + status_len + 4 <= width:
                return head, middle
    fits = [head for head in heads if len(head) + status_len + 1 <= width]
    return (fits[0] if fits else heads[-1]), ""


class RaceHeader(Widget):
    """The line is rebuilt only when its words change, and only the cells that changed are handed
    to Textual to repaint (a running race's clock: a digit a tick)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"race-header--title", "race-header--meta", "race-header--status",
                         "race-header--replay", "race-header--paused"}

    def __init__(self, race: RaceState, now: Callable[[], float], controls: ReplayControls | None) -> None:
        super().__init__(id="race-header")
        self.race = race
        self.now = now
        self.controls = controls
        self.text = ""
        self._key: tuple | None = None  # what ``_line`` was built from
        self._line: Text | None = None  # the line on screen, or about to be (refresh sent)
        self._styles: dict[str, Style] = {}

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
        parts = header_parts(self.race, controls, self.now())
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

    def _build(self, left: str, middles: list[str], right: str, width: int) -> Text:
        style = self._style
        badge = Text()
        if self.controls is not None:
            badge.append(f" REPLAY x{self.controls.speed:g} ", style("race-header--replay"))
            if self.controls.paused:
                badge.append(" ")
                badge.append(" PAUSED ", style("race-header--paused"))
            badge.append(" ")
        status = Text.assemble(badge, (right, style("race-header--status")))
        head_text, middle = fit_header(left, middles, status.cell_len, width)
        head = Text(head_text, style("race-header--title"))
        meta = Text(middle, style("race-header--meta"))
        room = width - status.cell_len - (2 if meta.cell_len else 1) - meta.cell_len
        if head.cell_len > room:
            head.truncate(max(room, 0), overflow="ellipsis")
        gap = max(1, width - head.cell_len - meta.cell_len - status.cell_len)
        left_gap = gap // 2 if meta.cell_len else gap
        return Text.assemble(head, " " * left_gap, meta, " " * (gap - left_gap if meta.cell_len else 0), status,
                             no_wrap=True)
