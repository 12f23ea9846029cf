"""What a lane pane says, as lines of rich Text fitted to the pane's size.

Pure functions of the lane's state, the race time and a style lookup, so the
words and the fitting are tested without a terminal. Colour is never the only
signal: every badge and outcome is also a word. Every word put on a line goes
through :func:`loopterm.sanitize.visible` (in ``_join``): a model's name, a
check's message or an ERROR's reason shows an escape sequence as ``^[``.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text

from loopterm.events import Outcome, Phase
from loopterm.racestate import LaneState, RaceState
from loopterm.sanitize import visible
from loopterm.stats.runs import RunSummary
from loopterm.stats.table import error_reason, fmt_tokens, ordinal, outcome_text
from loopterm.tui.chartgrid import y_range
from loopterm.tui.glyphs import Glyphs
from loopterm.tui.phasewords import level_for, wordings

StyleFor = Callable[[str], Style]

COMPACT_NAME_MAX = 24
OUTCOME_ROLE = {Outcome.PASS: "pass", Outcome.THRASH: "thrash", Outcome.TURN_LIMIT: "thrash", Outcome.BUDGET: "thrash"}


def plain_style(_role: str) -> Style:
    return Style()


def lane_outcome(lane: LaneState) -> str:
    """The same words as the results table and the plain printer."""
    run = RunSummary(
        info=lane.info,
        outcome=lane.outcome,
        reason=lane.reason,
        # The turns that ended (a TurnDone each), like LaneDone.turns and the results table:
        # ``lane.turn`` also counts a turn an abort or the budget cut short.
        turns=len(lane.scores),
        time_to_pass_s=lane.time_to_pass_s,
    )
    # The pane's border and the detail title already name the lane: "ERROR: <why>" only.
    run.reason = error_reason(run)
    return outcome_text(run)


def lane_time(lane: LaneState, race: RaceState, now: float) -> float:
    """The lane's timer: race time, frozen when the lane (or the race) finished."""
    if lane.finished_t is not None:
        return lane.finished_t
    if race.race_t_end is not None:
        return min(now, race.race_t_end)
    return max(now, 0.0)


def timer_text(lane: LaneState, race: RaceState, now: float) -> str:
    """The pane's timer as shown, in tenths of a second."""
    return f"{lane_time(lane, race, now):.1f} s"


def clock_words(lane: LaneState, race: RaceState, now: float) -> tuple[str, ...]:
    """Every word of a pane that moves with the clock: its timer and its phase's wordings.

    Nothing else in a pane depends on ``now``, so a pane whose lane had no news
    and whose clock words are unchanged shows exactly what it showed before.
    """
    return (timer_text(lane, race, now), *phase_variants(lane, race, now))


def phase_variants(lane: LaneState, race: RaceState, now: float) -> list[str]:
    """What the lane is doing, one wording per level (``phasewords``), longest first."""
    since = max(0.0, now - lane.phase_t) if lane.phase_t is not None else 0.0
    if lane.phase is Phase.DONE:
        return ["stopped" if lane.outcome == Outcome.ABORTED else "done"]
    if lane.phase is None:
        return ["queued" if lane.started_t is None else "starting"]
    if race.done:
        return ["stopped"]
    rate = f"{lane.tokens_per_s:.0f}" if lane.phase is Phase.GENERATING and lane.tokens_per_s else None
    return wordings(lane.phase, fmt_tokens(lane.tokens), rate, f"{since:.1f} s")


def phase_text(lane: LaneState, race: RaceState, now: float, width: int | None = None, level: int | None = None) -> str:
    """The wording at ``level`` (default: the one ``width`` holds at the widest numbers).

    When even that is too long (numbers past the widest the levels allow for), the next
    shorter wording that fits; the shortest (to be cut) when none does.
    """
    variants = phase_variants(lane, race, now)
    if width is None and level is None:
        return variants[0]
    if level is None:
        level = level_for(width or 0)
    variants = variants[min(level, len(variants) - 1) :]
    if width is None:
        return variants[0]
    return next((text for text in variants if len(text) <= width), variants[-1])


def turn_text(lane: LaneState, race: RaceState) -> str:
    return f"turn {lane.turn}/{race.max_turns}"


def turn_cells(race: RaceState) -> int:
    """The widest turn text of the race: turns are padded to it, so the phase never shifts."""
    return len(f"turn {race.max_turns}/{race.max_turns}")


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
    """One line of parts, each shown safely: control characters visible, no markup."""
    text = Text(no_wrap=True, overflow="ellipsis")
    for part in parts:
        if isinstance(part, str):
            text.append(visible(part))
        else:
            text.append(visible(part[0]), part[1])
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


CHECK_MAX_LINES = 4  # a failing check's message wraps over at most this many lines
CHECK_INDENT = "    "


def _check_text(mark: str, check_id: str, message: str, width: int, lines: int, style: StyleFor) -> list[Text]:
    """One failing check in at most ``lines`` lines: the id, then its message wrapped below.

    The message starts on the id's line when there is room for a useful part
    of it; its last line ends with an ellipsis (cut by ``_fit``) when the
    rest does not fit.
    """
    head = mark + check_id + "  "
    own_line = lines > 1 and len(head) + 12 > width  # a long id: the message goes below it
    indent = " " * len(CHECK_INDENT if own_line else head)
    wrapper = textwrap.TextWrapper(
        width=max(len(indent) + 8, width), initial_indent=indent, subsequent_indent=CHECK_INDENT, break_on_hyphens=False
    )
    wrapped = wrapper.wrap(message) if lines > 1 else [indent + message]
    if own_line:
        wrapped.insert(0, "")
    if len(wrapped) > lines:  # the rest goes on the last line, which is cut with an ellipsis
        wrapped = [*wrapped[: lines - 1], " ".join(part.strip() for part in wrapped[lines - 1 :])]
        if lines > 1:
            wrapped[-1] = CHECK_INDENT + wrapped[-1]
    role = "broke" if mark == "! " else "check-id"
    first = _join((mark + check_id, style(role)))
    rest = wrapped[0][len(indent) :] if not own_line else ""
    if rest:
        first.append("  ")
        first.append(rest, style("check-msg"))
    return [first] + [_join((part, style("check-msg"))) for part in wrapped[1:]]


def _check_lines(lane: LaneState, style: StyleFor, room: int, start_priority: int, width: int) -> list[_Line]:
    """Failing checks, newest first, as many as fit; '+N more' when they do not all fit.

    Every shown check gets one line first; rows still free then let the
    messages wrap (newest check first, up to ``CHECK_MAX_LINES`` each). With a
    single row the newest check is shown, with the count at its right end.
    """
    failing = lane.failing
    if room <= 0 or not failing:
        return []
    broke = set(lane.broke)
    shown = failing if len(failing) <= room else failing[: max(1, room - 1)]
    hidden = len(failing) - len(shown)
    count_line = hidden > 0 and room > 1
    spare = room - len(shown) - (1 if count_line else 0)
    texts = []
    for check in shown:
        mark = "! " if check.id in broke else "- "
        needed = len(_check_text(mark, check.id, check.short, width, CHECK_MAX_LINES, style))
        extra = min(spare, needed - 1)
        spare -= extra
        texts.append(_check_text(mark, check.id, check.short, width, 1 + extra, style))
    if hidden and not count_line:
        texts[0][0] = _right(texts[0][0], _join((f"+{hidden} more", style("muted"))), width)
    lines = [_Line(start_priority + i, text[0]) for i, text in enumerate(texts)]
    priority = start_priority + len(texts)
    if count_line:
        lines.append(_Line(priority, _join((f"+{hidden} more failing", style("muted")))))
        priority += 1
    # Continuation lines go right after their check's line, but are the first to go.
    out: list[_Line] = []
    for i, text in enumerate(texts):
        out.append(lines[i])
        for more in text[1:]:
            out.append(_Line(priority, more))
            priority += 1
    return out + lines[len(texts) :]


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}s"


NAMED_CHANGE_WIDTH = 80  # a turn row names the checks it fixed and broke from this pane width


def _turn_lines(lane: LaneState, style: StyleFor, room: int, start_priority: int, width: int) -> list[_Line]:
    """The last turns, newest first, when a pane has room after the failing checks.

    A wide pane names the checks each turn fixed (+) and broke (-) after the counts;
    names that do not fit go on the rows under their turn while rows are free (the
    newest turn's first), and the last one kept is cut with an ellipsis.
    """
    done = [row for row in lane.history if row.status is not None]
    if room < 3 or not done or width < 40:
        return []
    wide = width >= 64
    head = f"{'turn':>4} {'status':<8}{'score':>6} {'model':>6} {'valid.':>6}"
    if wide:
        head += f" {'ttft':>6} {'tokens':>7}  change"
    shown = list(reversed(done[-(room - 1) :]))
    spare = room - 1 - len(shown)
    lines = [_Line(start_priority, _join((head, style("muted"))))]
    more: list[list[Text]] = []  # each turn's rows under it
    for row in shown:
        text = _join(
            f"{row.turn:>4} {row.status:<8}",
            (f"{row.passed}/{row.total}".rjust(6), style("score")),
            f" {_seconds(row.model_s):>6} {_seconds(row.validation_s):>6}",
        )
        under: list[Text] = []
        if wide:
            tokens = fmt_tokens(row.prompt_tokens + row.completion_tokens, row.tokens_estimated)
            change = (f"+{len(row.fixed)}" if row.fixed else "") + (f" -{len(row.broke)}" if row.broke else "")
            text.append(f" {_seconds(row.ttft_s):>6} {tokens:>7}  ")
            text.append(change.strip(), style("muted"))
            if width >= NAMED_CHANGE_WIDTH:
                names = [
                    (visible(prefix + check_id), style(role))
                    for prefix, ids, role in (("+", row.fixed, "fixed"), ("-", row.broke, "broke"))
                    for check_id in ids
                ]
                under = _flow(text, names, width, spare)
                spare -= len(under)
        lines.append(_Line(start_priority + 1 + len(more), text))
        more.append(under)
    out, priority = lines[:1], start_priority + len(lines)
    for line, under in zip(lines[1:], more, strict=True):
        out.append(line)
        for text in under:  # the first rows to go when the pane is short
            out.append(_Line(priority, text))
            priority += 1
    return out


def _flow(first: Text, words: list[tuple[str, Style]], width: int, rows: int) -> list[Text]:
    """Append ``words`` to ``first`` as far as they fit, then onto at most ``rows`` more rows
    starting at the same column; the last row takes the rest (``_fit`` cuts it)."""
    indent = " " * (first.cell_len + 1)
    out: list[Text] = []
    line = first
    for word, style in words:
        if line.cell_len + 1 + len(word) > width and len(out) < rows and line.cell_len > len(indent):
            line = Text(indent, no_wrap=True, overflow="ellipsis")
            out.append(line)
        else:
            line.append(" ")
        line.append(word, style)
    return out


def _change_text(lane: LaneState, style: StyleFor) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    if lane.last_status:
        text.append(lane.last_status, style("muted"))
    if lane.no_code:  # the score shown is the implementation still in place
        text.append("  no code", style("fail"))
    if lane.fixed:
        text.append(f"  +{len(lane.fixed)} fixed", style("fixed"))
    if lane.broke:
        text.append(f"  -{len(lane.broke)} broke", style("broke"))
    return text


def _outcome_line(lane: LaneState, style: StyleFor, short: bool = False) -> Text | None:
    """The outcome and place; ``short``: the label alone ("PASS in 6.2 s"), for a narrow row."""
    if lane.outcome is None:
        if lane.validation_error:
            return _join(("! " + lane.validation_error, style("fail")))
        return None
    role = OUTCOME_ROLE.get(lane.outcome, "fail")
    words = lane_outcome(lane)
    if short and lane.outcome != Outcome.ERROR:
        words = words.split(" after ")[0]
    text = _join((words, style(role)))
    if lane.place:
        text.append("  ")
        text.append(ordinal(lane.place), style("place"))
    return text


def full_lines(
    lane: LaneState,
    race: RaceState,
    now: float,
    width: int,
    height: int,
    glyphs: Glyphs,
    style: StyleFor,
    form: PaneForm | None = None,
) -> list[Text]:
    """The lines of a pane in the grid (the lane's name is in its border).

    ``form``: the wordings shared by the screen's panes (default: fitted to this pane alone).
    """
    form = form or pane_form(race, width, compact=False)
    timer = _join((timer_text(lane, race, now), style("timer")))
    badges = _join((f" {class_badge(lane)} ", style("class")))
    model = visible(lane.info.model)
    if lane.info.simulated:
        badges.append(" ")
        badges.append(form.sim, style("sim"))
    ident = _right(Text.assemble(badges, " ", (model, style("model"))), timer, width)

    turn = turn_text(lane, race).ljust(turn_cells(race))
    phase = _join(
        (turn, style("turn")), "  ", (phase_text(lane, race, now, width - len(turn) - 2, form.level), style("phase"))
    )

    score = score_text(lane)
    filled, empty = glyphs.bar(lane.score, max(4, width - len(score) - 1))  # as wide as the pane
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
        # An error's reason is what the user must act on: it wraps over every row the
        # timer, phase and bar leave (before the history line), and only then is cut.
        if lane.outcome == Outcome.ERROR and outcome.cell_len > width:
            wrapped = _wrap_rows(outcome.plain, width, max(1, height - len(lines) + 1))
            lines[-1:] = [_Line(3, _join((part, style("fail")))) for part in wrapped]
    if lane.scores:
        lines.append(_Line(4, history))
    room = height - len(lines)
    if lane.fixed and not lane.done and room >= 3:  # worth a line only when checks still fit too
        lines.append(_Line(5, _join(("fixed: " + ", ".join(lane.fixed), style("fixed")))))
        room -= 1
    checks = _check_lines(lane, style, room, start_priority=6, width=width)
    lines += checks
    lines += _turn_lines(lane, style, room - len(checks), start_priority=100, width=width)
    spare = height - len(lines)
    if len(lane.scores) >= 2 and spare > 0:
        # Rows nothing else needs: the sparkline grows taller (finer steps), up to SPARK_ROWS_MAX;
        # one turn has no trajectory to show.
        at = next(i for i, line in enumerate(lines) if line.text is history)
        tall = _tall_history(lane, glyphs, style, width, min(SPARK_ROWS_MAX, 1 + spare))
        lines[at : at + 1] = [_Line(200 + i, text) for i, text in enumerate(tall[:-1])] + [_Line(4, tall[-1])]
    return _fit(lines, width, height)


SPARK_ROWS_MAX = 12


def _tall_history(lane: LaneState, glyphs: Glyphs, style: StyleFor, width: int, rows: int) -> list[Text]:
    """The score after each turn as a chart ``rows`` tall, the last turn's change beside its foot.

    The scale zooms to the scores as the charts' does (``chartgrid.y_range``) and
    is labelled at the top and the foot, since the
    one-row sparkline's 0-100% would show 90% and 100% as the same full block.
    Each turn gets up to 3 cells and a gap when the pane is wide enough, else one cell;
    the latest turns are kept when not all fit.
    """
    axis = y_range(lane.scores)  # the charts' rule, without a cut: a pane has no rows to spare for one
    floor = axis.floor if axis.low_label is None else 0.0
    labels = ["100%", f"{floor:.0%}"]
    label_w = max(len(label) for label in labels) + 1
    change = _change_text(lane, style)
    room = max(1, width - label_w - 1 - change.cell_len - 2)
    per = room // max(1, len(lane.scores))
    cell, gap = (min(3, per - 1), 1) if per >= 3 else (1, 0)
    values = lane.scores[-max(1, (room + gap) // (cell + gap)) :]
    texts = []
    for i, row in enumerate(glyphs.spark_rows(values, rows, cell, gap, floor)):
        label = labels[0] if i == 0 else labels[1] if i == rows - 1 else ""
        texts.append(_join((label.rjust(label_w - 1) + " " + glyphs.vline, style("muted")), (row, style("spark"))))
    texts[-1].append("  ")
    texts[-1].append_text(change)
    return texts


COMPACT_PHASE_MIN = 16  # the phase keeps this many cells ("validating 1.2 s") before badges shrink
COMPACT_NAME_MIN = 10
TIMER_CELLS = 7  # "123.4 s"


@dataclass(frozen=True)
class CompactColumns:
    """How a compact row's leading columns are drawn; the same for every row, so they line up."""

    name: int  # cells for the lane's name
    class_pad: bool  # " H/AR " rather than "H/AR"
    sim: str  # the simulated badge: " SIM ", "SIM", or "" when every sim lane's name says so
    turn: int  # cells for "turn N/M"


def compact_columns(race: RaceState, width: int) -> CompactColumns:
    """The widest columns that still leave the phase ``COMPACT_PHASE_MIN`` cells.

    What gives way, in order: the SIM badge's padding, the class badge's
    padding, the SIM badge itself (only when every simulated lane's name
    already says "sim"), then the name column, down to ``COMPACT_NAME_MIN``.
    """
    lanes = list(race.lanes.values())
    name = min(COMPACT_NAME_MAX, max(len(race.display_name(run_id)) for run_id in race.lanes))
    turn = len(f"turn {race.max_turns}/{race.max_turns}")
    sims = [lane for lane in lanes if lane.info.simulated]
    named_sim = all("sim" in race.display_name(lane.run_id).lower() for lane in sims)
    options = [
        CompactColumns(name, True, " SIM ", turn),
        CompactColumns(name, True, "SIM", turn),
        CompactColumns(name, False, "SIM", turn),
    ]
    shortest = COMPACT_NAME_MIN
    if named_sim:
        options.append(CompactColumns(name, False, "", turn))
        # Names stay long enough to keep their "(sim)", now that the badge is gone.
        shortest = max([shortest, *(len(name_suffix(race.display_name(lane.run_id))) + 4 for lane in sims)])
    last = options[-1]
    options += [CompactColumns(n, False, last.sim, turn) for n in range(name - 1, shortest - 1, -1)]
    return next((cols for cols in options if compact_phase_room(race, cols, width) >= COMPACT_PHASE_MIN), options[-1])


def compact_phase_room(race: RaceState, cols: CompactColumns, width: int) -> int:
    """The cells a compact row leaves its phase, beside the widest timer."""
    badge = max(len(class_badge(lane)) for lane in race.lanes.values())
    sim = len(cols.sim) + 1 if cols.sim and any(lane.info.simulated for lane in race.lanes.values()) else 0
    return width - (cols.name + 1 + badge + (2 if cols.class_pad else 0) + sim + 2 + cols.turn + 2 + 1 + TIMER_CELLS)


@dataclass(frozen=True)
class PaneForm:
    """The wordings of every pane on one screen: one form per screen, not one per pane.

    Side-by-side panes never mix ``SIM`` and ``SIMULATED``, or ``gen`` and
    ``generating``, and a pane keeps its wording through a turn: the form is
    fitted to the narrowest pane with every number at its widest.
    """

    sim: str  # a full pane's simulated badge: " SIMULATED ", or " SIM " where that would cut a model's name
    level: int  # the phase wording (``phasewords``)


def pane_form(race: RaceState, width: int, compact: bool) -> PaneForm:
    """The form for panes ``width`` cells wide (the grid passes its narrowest pane's width)."""
    if not race.lanes:
        return PaneForm(" SIM ", level_for(width))
    if compact:
        return PaneForm(" SIM ", level_for(compact_phase_room(race, compact_columns(race, width), width)))
    badge = max(len(class_badge(lane)) for lane in race.lanes.values()) + 2
    models = [len(visible(lane.info.model)) for lane in race.lanes.values() if lane.info.simulated]
    # The long badge only while every simulated model's name still fits beside it.
    fits = badge + 1 + len(" SIMULATED ") + 1 + max(models, default=0) + 1 + TIMER_CELLS <= width
    return PaneForm(" SIMULATED " if fits else " SIM ", level_for(width - turn_cells(race) - 2))


_NAME_SUFFIX = re.compile(r"^(?P<stem>.*?)(?P<suffix>(?: \([^()]*\))?(?: #\d+)?)$")


def name_suffix(name: str) -> str:
    """The part of a lane's name that tells it apart: " (sim)", " #2", " (sim) #2" or ""."""
    match = _NAME_SUFFIX.match(name)
    return match["suffix"] if match else ""


def short_name(name: str, width: int) -> str:
    """``name`` in ``width`` cells, cut in its stem so a " (sim)" or "#2" suffix stays readable."""
    if len(name) <= width:
        return name
    suffix = name_suffix(name)
    if suffix and width >= len(suffix) + 4:
        return name[: width - len(suffix) - 1].rstrip() + "…" + suffix
    return name[: max(0, width - 1)] + "…"


def compact_lines(
    lane: LaneState,
    race: RaceState,
    now: float,
    width: int,
    height: int,
    glyphs: Glyphs,
    style: StyleFor,
    form: PaneForm | None = None,
) -> list[Text]:
    """The lines of a one-row pane (many lanes, or a small terminal); ``form`` as for ``full_lines``."""
    form = form or pane_form(race, width, compact=True)
    timer = _join((timer_text(lane, race, now), style("timer")))
    cols = compact_columns(race, width)
    badge_width = max(len(class_badge(other)) for other in race.lanes.values())
    badge = class_badge(lane).ljust(badge_width)
    head = _join(
        (short_name(race.display_name(lane.run_id), cols.name).ljust(cols.name), style("name")),
        " ",
        (f" {badge} " if cols.class_pad else badge, style("class")),
    )
    if cols.sim and lane.info.simulated:
        head.append(" ")
        head.append(cols.sim, style("sim"))
    elif cols.sim and any(other.info.simulated for other in race.lanes.values()):
        head.append(" " * (len(cols.sim) + 1))
    head.append("  ")
    head.append(turn_text(lane, race).ljust(cols.turn), style("turn"))
    head.append("  ")
    room = width - head.cell_len - timer.cell_len - 1
    head.append(phase_text(lane, race, now, room, form.level), style("phase"))
    first = _right(head, timer, width)

    score = score_text(lane)
    filled, empty = glyphs.bar(lane.score, 10)
    second = _join((filled, style("bar")), (empty, style("bar-empty")), " ", (score, style("score")), " ")
    second.append(glyphs.sparkline(lane.scores, min(race.max_turns or 1, 15)), style("spark"))
    outcome = _outcome_line(lane, style)
    reason: list[str] = []
    if outcome is not None and second.cell_len + 2 + outcome.cell_len > width:
        if lane.outcome == Outcome.ERROR and height > 2:
            # The reason goes on the rows below (where the checks would be), wrapped.
            reason = _wrap_rows(outcome.plain, width, height - 2)
            outcome = _join(("ERROR", style("fail")))
        else:
            outcome = _outcome_line(lane, style, short=True)  # keep the place in view
    second.append("  ")
    second.append_text(outcome if outcome is not None else _change_text(lane, style))

    lines = [_Line(0, first), _Line(1, second)]
    if reason:
        lines += [_Line(2, _join((part, style("fail")))) for part in reason]
    else:
        lines += _check_lines(lane, style, height - 2, start_priority=2, width=width)
    return _fit(lines, width, height)


def _wrap_rows(text: str, width: int, rows: int) -> list[str]:
    """``text`` wrapped to ``width`` in at most ``rows`` lines; the last holds the rest (``_fit`` cuts it)."""
    wrapped = textwrap.wrap(text, max(8, width))
    if len(wrapped) > rows:
        wrapped = [*wrapped[: rows - 1], " ".join(wrapped[rows - 1 :])]
    return wrapped
