"""What the viewer's keys, badges and marks mean: every explaining word in one place.

The keys screen (``?``, or "Keys" in the palette) lists ``KEY_WORDS`` for the
keys in force and ``legend_rows`` below them; the lane detail screen shows a lane's
own badges spelt out (``lane_legend``); the line at the foot of the race screen
says when a race is over and which keys matter then (``race_over_variants``).
Class words come from :data:`loopterm.words.CLASS_WORDS`, so a new class is
explained wherever it is shown.
"""

from __future__ import annotations

from collections.abc import Mapping

from loopterm.lanes import LANE_CLASSES
from loopterm.racestate import LaneState, RaceState
from loopterm.sanitize import visible
from loopterm.tui.glyphs import Glyphs
from loopterm.words import class_words

# Binding id -> what the key does, for the keys screen (the footer keeps each binding's short label).
# Keys with the same words share a row ("q, ^c").
KEY_WORDS: dict[str, str] = {
    "lane.open": "open the lane: an ERROR's reason, its candidate, the feedback sent back, every turn",
    "lanes.left": "move between the lanes",
    "lanes.right": "move between the lanes",
    "lanes.up": "move between the lanes",
    "lanes.down": "move between the lanes",
    "summary": "the results table (the same rows as --plain)",
    "chart": "score against race time for every lane",
    "screenshot": "save an SVG screenshot into the trace folder",
    "keys": "this screen: the keys and what the badges mean",
    "replay.pause": "replay: pause or resume",
    "replay.faster": "replay: faster (up to 50x)",
    "replay.slower": "replay: slower (down to 0.5x)",
    "replay.end": "replay: jump to the end",
    "replay.restart": "replay: start again",
    "detail.back": "back to the race",
    "summary.back": "back to the race",
    "chart.back": "back to the race",
    "bench.back": "back",
    "keys.back": "back",
    "detail.code": "the Candidate tab: the latest code",
    "detail.feedback": "the Feedback tab: what went back to the model",
    "detail.history": "the History tab: every turn's timings, tokens and cost",
    "quit": "quit; while a live race runs it asks first (a second Ctrl+C there quits)",
    "quit.ctrl-c": "quit; while a live race runs it asks first (a second Ctrl+C there quits)",
}

# Keys Textual itself binds, which every screen has.
TEXTUAL_KEYS: tuple[tuple[str, str], ...] = (
    ("tab, shift+tab", "move the focus (between lanes, tabs, tables)"),
    ("^p", "command palette: every action, open a lane by name, switch the theme"),
)

_CLASS_ROWS = tuple((lane_class, f"{class_words(lane_class)} model") for lane_class in LANE_CLASSES)


def legend_rows(glyphs: Glyphs) -> list[tuple[str, str]]:
    """(what is on screen, what it means), in the order the eye meets them: header, pane, outcome.

    The bar and the sparkline are drawn with ``glyphs``, as the panes draw them.
    """
    filled, empty = glyphs.bar(40 / 47, 6)
    return [
        ("running 12.3 s", "race time since the start; finished or aborted once the race is over"),
        (
            "sim x0.2",
            "simulated latencies scaled by 0.2 (--time-scale): a simulated turn takes 0.2 of its "
            "profile's time; x1 is the profile's own pace",
        ),
        ("REPLAY x2", "a replay at twice the recorded speed; PAUSED x2 while it is paused"),
        ("H / L", "hosted model (reached over an API) / local model (ollama, llama.cpp)"),
        ("AR / D", "autoregressive model (one token after another) / diffusion model (refines a whole answer)"),
        *_CLASS_ROWS,
        (
            "SIM, SIMULATED",
            "a simulated model: modelled latency and skill, no key, no network; the checks are the real suite",
        ),
        ("12.3 s", "the lane's time since the race started; it stops when the lane finishes"),
        ("turn 3/15", "the turn running, of the turn limit (--max-turns)"),
        ("waiting 1.2 s", "the request is sent, no token has come back yet"),
        ("gen 1.2k tok 300/s", "generating: tokens so far, tokens a second"),
        ("validating 0.4 s", "the suite is running against this turn's candidate"),
        (f"{filled}{empty} 40/47 85%", "checks passed, of the suite"),
        (glyphs.sparkline([0.3, 0.6, 0.85, 1.0], 4), "the score after each turn, oldest at the left"),
        ("PARTIAL, FAIL", "the last turn's status: some checks passed / none did (or no code, or it did not load)"),
        ("+2 fixed  -1 broke", "checks the last turn fixed / broke"),
        ("- check.id", "a failing check, newest first; ! marks one the last turn broke; +N more"),
        ("PASS in 6.2 s", "every check passed: the lane's time from the race start"),
        ("THRASH", "stuck: --thrash-k turns in a row without a new best score"),
        ("turn limit, BUDGET", "the turn limit / the wall-clock budget (--budget) ran out"),
        ("ERROR", "the provider or the sandbox failed (never counted against the model); the reason follows"),
        ("1st, 2nd", "places: passing lanes in the order they passed"),
    ]


def time_scale_words(scale: float) -> str:
    """What a simulated race's time scale means, for the lane detail."""
    if scale == 0:
        return "sim x0: no simulated latency, each turn as fast as the checks run"
    return f"sim x{scale:g}: latencies at {scale:g} of the profile's pace"


def lane_legend(lane: LaneState | None, race: RaceState) -> str:
    """One line spelling out a lane's badges, for the lane detail screen; "" when the lane is not known.

    ``"H/D = hosted, diffusion model · SIMULATED: modelled latency and skill, real checks ·
    sim x0.2: latencies at 0.2 of the profile's pace"``.
    """
    if lane is None:
        return ""
    lane_class = visible(lane.info.lane_class)
    words = class_words(lane.info.lane_class)
    unknown = (
        f"{lane_class}: not a known class" if lane_class else "class not given"
    ) + " (H/L: hosted/local, AR/D: autoregressive/diffusion)"
    parts = [f"{lane_class} = {words} model" if words else unknown]
    if lane.info.simulated:
        parts.append("SIMULATED: modelled latency and skill, real checks")
        if race.time_scale != 1:
            parts.append(time_scale_words(race.time_scale))
    return " · ".join(parts)


# The keys the race-over line names, as bound by default; the viewer passes the keys in force.
OVER_KEYS: dict[str, str] = {"summary": "s", "chart": "c", "quit": "q", "replay.restart": "r"}


def race_over_variants(
    race: RaceState, replay: bool, error: str | None = None, keys: Mapping[str, str] = OVER_KEYS
) -> list[str]:
    """The line shown once the race is over, longest wording first ([] while it runs).

    It says how the race ended and what the keys do now: the results table,
    quit (the table is printed again into the scrollback), and in a replay,
    watch it again. ``keys``: binding id -> the key bound to it now.
    """
    key = {**OVER_KEYS, **keys}
    results, chart, quit_key, again = key["summary"], key["chart"], key["quit"], key["replay.restart"]
    kind = race.kind.capitalize() if race.kind else "Race"
    if error is not None and not race.done:
        return [
            f"{kind} stopped with an error (see the notice) · {results} results so far · {quit_key} quit",
            f"{kind} stopped with an error · {results} results · {quit_key} quit",
        ]
    if not race.done:
        return []
    end = f" at {race.race_t_end:.1f} s" if race.race_t_end is not None else ""
    how = f"{kind} aborted{end}" if race.aborted else f"{kind} finished{end}"
    if replay:
        how = f"Replay at its end: {how[0].lower()}{how[1:]}"
        return [
            f"{how} · {results} results table · {again} watch again · {quit_key} quit",
            f"{how} · {results} results · {again} again · {quit_key} quit",
            f"{how} · {results} results · {quit_key} quit",
        ]
    return [
        f"{how} · {results} results table · {chart} chart · {quit_key} quit (the table stays in your scrollback)",
        f"{how} · {results} results table · {chart} chart · {quit_key} quit",
        f"{how} · {results} results · {quit_key} quit",
    ]
