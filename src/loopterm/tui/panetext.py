"""What a lane pane says, as lines of rich Text fitted to the pane's size.

Pure functions of the lane's state, the race time and a style lookup, so the
words and the fitting are tested without a terminal. Colour is never the only
signal: every badge and outcome is also a word.
"""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text

from loopterm.events import Phase
from loopterm.racestate import LaneState, RaceState
from loopterm.stats.runs import RunSummary
from loopterm.stats.table import fmt_tokens, ordinal, outcome_text
from loopterm.tui.glyphs import Glyphs

StyleFor = Callable[[str], Style]

COMPACT_NAME_MAX = 24
ERROR_LINES = 3  # an ERROR lane's reason may take this many lines of a full pane
OUTCOME_ROLE = {"PASS": "pass", "THRASH": "thrash", "TURN_LIMIT": "thrash", "BUDGET": "thrash"}


def plain_style(_role: str) -> Style:
    return Style()


def lane_outcome(lane: LaneState) -> str:
    """The same words as the results table and the plain printer."""
    run = RunSummary(
        info=lane.info,
        outcome=lane.outcome,
        reason=lane.reason,
        turns=lane.turn,
        time_to_pass_s=lane.time_to_pass_s,
    )
    return outcome_text(run)


def lane_time(lane: LaneState, race: RaceState, now: float) -> float:
    """The lane's timer: race time, frozen when the lane (or the race) finished."""
    if lane.finished_t is not None:
        return lane.finished_t
    if race.race_t_end is not None:
        return min(now, race.race_t_end)
    return max(now, 0.0)


def phase_variants(lane: LaneState, race: RaceState, now: float) -> list[str]:
    """What the lane is doing, longest wording first; a narrow pane takes the first that fits."""
    since = max(0.0, now - lane.phase_t) if lane.phase_t is not None else 0.0
    if lane.phase is Phase.DONE:
        return ["done"]
    if lane.phase is None:
        return ["queued" if lane.started_t is None else "starting"]
    if race.done:
        return ["stopped"]
    if lane.phase is Phase.WAITING:
        return [f"waiting for first token {since:.1f} s", f"waiting for 1st token {since:.1f} s",
                "waiting for 1st token", "waiting"]
    if lane.phase is Phase.GENERATING:
        tokens = fmt_tokens(lane.tokens)
        if not lane.tokens_per_s:
            return [f"generating {tokens} tok", f"gen {tokens} tok"]
        rate = f"{lane.tokens_per_s:.0f}"
        return [f"generating {tokens} tok {rate} tok/s", f"generating {tokens} tok {rate}/s",
                f"gen {tokens} tok {rate}/s", f"gen {tokens} tok"]
    return [f"validating {since:.1f} s", "validating"]


def phase_text(lane: LaneState, race: RaceState, now: float, width: int | None = None) -> str:
    variants = phase_variants(lane, race, now)
    if width is not None:
        for text in variants:
            if len(text) <= width:
                return text
    return variants[0]


def turn_text(lane: LaneState, race: RaceState) -> str:
    return f"turn {lane.turn}/{race.max_turns}"


def score_text(lane: LaneState) -> str:
    if not lane.total:
        return "-/-"
    return f"{lane.passed}/{lane.total} {lane.score:.0%}"


def class_badge(lane: LaneState) -> str:
    return lane.info.lane_class or "?"


@dataclass
class _Line:
    priority: int  # lower survives first when the pane is short
    text: Text


def _fit(lines: list[_Line], width: int, height: int) -> list[Text]:
    """The most important lines that fit, in display order, each cut to ``width``."""
    keep = sorted(range(len(lines)), key=lambda i: (lines[i].priority, i))[: max(0, height)]
    fitted = []
    for i in sorted(keep):
        text = lines[i].text
        if text.cell_len > width:
            text = text.copy()
            text.truncate(max(0, width), overflow="ellipsis")
        fitted.append(text)
    return fitted


def _join(*parts: tuple[str, Style] | str) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    for part in parts:
        if isinstance(part, str):
            text.append(part)
        else:
            text.append(part[0], part[1])
    return text


def _right(left: Text, right: Text, width: int) -> Text:
    """``left`` then ``right`` flush with the right edge; ``left`` is cut to make room."""
    room = width - right.cell_len - 1
    if room < 1:
        return right
    if left.cell_len > room:
        left = left.copy()
        left.truncate(room, overflow="ellipsis")
    gap = width - left.cell_len - right.cell_len
    return Text.assemble(left, " " * gap, right, no_wrap=True)


def _check_lines(lane: LaneState, style: StyleFor, room: int, start_priority: int, width: int = 0) -> list[_Line]:
    """Failing checks, newest first; '+N more' when they do not all fit.

    A big pane that can hold every failure on two lines gives each its own
    line for the message, so less of it is cut off.
    """
    failing = lane.failing
    if room <= 0 or not failing:
        return []
    broke = set(lane.broke)
    too_long = any(len(c.id) + len(c.short) + 4 > width for c in failing)
    two_lines = too_long and 2 * len(failing) <= room
    shown = failing if len(failing) <= room else failing[: room - 1]
    lines = []
    priority = start_priority
    for check in shown:
        mark, role = ("! ", "broke") if check.id in broke else ("- ", "check-id")
        if two_lines:
            lines.append(_Line(priority, _join((mark + check.id, style(role)))))
            lines.append(_Line(priority + 1, _join("    ", (check.short, style("check-msg")))))
            priority += 2
        else:
            text = _join((mark + check.id, style(role)), "  ", (check.short, style("check-msg")))
            lines.append(_Line(priority, text))
            priority += 1
    hidden = len(failing) - len(shown)
    if hidden:
        lines.append(_Line(priority, _join((f"+{hidden} more failing", style("muted")))))
    return lines


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


def _turn_lines(lane: LaneState, style: StyleFor, room: int, start_priority: int, width: int) -> list[_Line]:
    """The last turns, newest first, when a pane has room after the failing checks."""
    done = [row for row in lane.history if row.status is not None]
    if room < 3 or not done or width < 40:
        return []
    wide = width >= 64
    head = f"{'turn':>4} {'status':<8}{'score':>6} {'model':>6} {'valid.':>6}"
    if wide:
        head += f" {'ttft':>6} {'tokens':>7}  change"
    lines = [_Line(start_priority, _join((head, style("muted"))))]
    for n, row in enumerate(reversed(done[-(room - 1):])):
        text = _join(
            f"{row.turn:>4} {row.status:<8}",
            (f"{row.passed}/{row.total}".rjust(6), style("score")),
            f" {_seconds(row.model_s):>6} {_seconds(row.validation_s):>6}",
        )
        if wide:
            tokens = fmt_tokens(row.prompt_tokens + row.completion_tokens, row.tokens_estimated)
            change = (f"+{len(row.fixed)}" if row.fixed else "") + (f" -{len(row.broke)}" if row.broke else "")
            text.append(f" {_seconds(row.ttft_s):>6} {tokens:>7}  ")
            text.append(change.strip(), style("muted"))
        lines.append(_Line(start_priority + 1 + n, text))
    return lines


def _change_text(lane: LaneState, style: StyleFor) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    if lane.last_status:
        text.append(lane.last_status, style("muted"))
    if lane.fixed:
        text.append(f"  +{len(lane.fixed)} fixed", style("fixed"))
    if lane.broke:
        text.append(f"  -{len(lane.broke)} broke", style("broke"))
    return text


def _outcome_line(lane: LaneState, style: StyleFor) -> Text | None:
    if lane.outcome is None:
        if lane.validation_error:
            return _join(("! " + lane.validation_error, style("fail")))
        return None
    role = OUTCOME_ROLE.get(lane.outcome, "fail")
    text = _join((lane_outcome(lane), style(role)))
    if lane.place:
        text.append("  ")
        text.append(ordinal(lane.place), style("place"))
    return text


def full_lines(
    lane: LaneState, race: RaceState, now: float, width: int, height: int, glyphs: Glyphs, style: StyleFor
) -> list[Text]:
    """The lines of a pane in the grid (the lane's name is in its border)."""
    timer = _join((f"{lane_time(lane, race, now):.1f} s", style("timer")))
    badges = _join((f" {class_badge(lane)} ", style("class")))
    if lane.info.simulated:
        badges.append(" ")
        badges.append(" SIMULATED " if width >= 34 else " SIM ", style("sim"))
    ident = _right(Text.assemble(badges, " ", (lane.info.model, style("model"))), timer, width)

    turn = turn_text(lane, race)
    phase = _join((turn, style("turn")), "  ",
                  (phase_text(lane, race, now, width - len(turn) - 2), style("phase")))

    score = score_text(lane)
    filled, empty = glyphs.bar(lane.score, max(4, min(60, width - len(score) - 1)))
    bar = _join((filled, style("bar")), (empty, style("bar-empty")), " ", (score, style("score")))

    spark_width = max(0, min(lane.turn or 1, race.max_turns or 1, width // 3))
    history = _join((glyphs.sparkline(lane.scores, spark_width), style("spark")))
    if lane.scores:
        history.append("  ")
        history.append_text(_change_text(lane, style))

    lines = [_Line(0, ident), _Line(1, phase), _Line(2, bar)]
    outcome = _outcome_line(lane, style)
    if outcome is not None:
        lines.append(_Line(3, outcome))
        # An error's reason is what the user must act on: let it wrap rather than be cut.
        if lane.outcome == "ERROR" and outcome.cell_len > width:
            wrapped = textwrap.wrap(outcome.plain, max(8, width))
            lines[-1] = _Line(3, _join((wrapped[0], style("fail"))))
            lines += [_Line(3, _join((more, style("fail")))) for more in wrapped[1:ERROR_LINES]]
    if lane.scores:
        lines.append(_Line(4, history))
    room = height - len(lines)
    if lane.fixed and not lane.done and room >= 3:  # worth a line only when checks still fit too
        lines.append(_Line(5, _join(("fixed: " + ", ".join(lane.fixed), style("fixed")))))
        room -= 1
    checks = _check_lines(lane, style, room, start_priority=6, width=width)
    lines += checks
    lines += _turn_lines(lane, style, room - len(checks), start_priority=100, width=width)
    return _fit(lines, width, height)


def compact_lines(
    lane: LaneState, race: RaceState, now: float, width: int, height: int, glyphs: Glyphs, style: StyleFor
) -> list[Text]:
    """The lines of a one-row pane (many lanes, or a small terminal)."""
    timer = _join((f"{lane_time(lane, race, now):.1f} s", style("timer")))
    # Names and badges padded alike in every row, so the columns line up down the screen.
    name_width = min(COMPACT_NAME_MAX, max(len(race.display_name(run_id)) for run_id in race.lanes))
    badge_width = max(len(class_badge(other)) for other in race.lanes.values())
    name = race.display_name(lane.run_id)
    if len(name) > name_width:
        name = name[: name_width - 1] + "…"
    head = _join((name.ljust(name_width), style("name")), " ",
                 (f" {class_badge(lane).ljust(badge_width)} ", style("class")))
    if lane.info.simulated:
        head.append(" ")
        head.append(" SIM ", style("sim"))
    elif any(other.info.simulated for other in race.lanes.values()):
        head.append("      ")
    head.append("  ")
    head.append(turn_text(lane, race), style("turn"))
    head.append("  ")
    room = width - head.cell_len - timer.cell_len - 1
    head.append(phase_text(lane, race, now, room), style("phase"))
    first = _right(head, timer, width)

    score = score_text(lane)
    filled, empty = glyphs.bar(lane.score, 10)
    second = _join((filled, style("bar")), (empty, style("bar-empty")), " ", (score, style("score")), " ")
    second.append(glyphs.sparkline(lane.scores, min(race.max_turns or 1, 15)), style("spark"))
    outcome = _outcome_line(lane, style)
    second.append("  ")
    second.append_text(outcome if outcome is not None else _change_text(lane, style))

    lines = [_Line(0, first), _Line(1, second)]
    lines += _check_lines(lane, style, height - 2, start_priority=2)
    return _fit(lines, width, height)
