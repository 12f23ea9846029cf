"""The race viewer app: consumes an event source, folds it into state, shows it.

``make_app`` builds it for the CLI (a live race, ``launch.run_live``), for
replays (``launch.run_replay_app``) and for tests. The source runs as an async
worker on the app's own loop (the engine is plain asyncio and never blocks);
its events only update plain state, and the race screen's clock ticks at
10 Hz (the timers show tenths). News repaints promptly too: the lanes an event
touched are noted, and at most ``fps`` times a second (``DEFAULT_FPS``: every
40 ms) the screens showing them repaint once for all the events since
(``show_news``), so an event is on screen within about 40 ms of its arrival
however fast events come. Each repaint rewrites only the cells that changed.
``fps`` below 10 slows the clock's ticks to match (``--fps`` for slow links).
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable, Iterable
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.command import CommandPalette
from textual.notifications import Notification, Notify
from textual.screen import Screen
from textual.theme import ThemeProvider
from textual.worker import Worker, WorkerCancelled, WorkerFailed, WorkerState

from loopterm.events import Event, RaceDone, RaceStarted
from loopterm.exits import Exit
from loopterm.racestate import RaceState
from loopterm.sanitize import visible
from loopterm.sources import EngineSource, EventSource, ReplayControls
from loopterm.tui import DEFAULT_FPS
from loopterm.tui.clock import ViewClock
from loopterm.tui.glyphs import AsciiFilter, Glyphs, VisibleFilter, choose_glyphs
from loopterm.tui.hangup import catch_signals, terminal_gone
from loopterm.tui.palette import Palette, loopterm_commands
from loopterm.tui.screens.chart import ChartScreen
from loopterm.tui.screens.confirm_quit import ConfirmQuit
from loopterm.tui.screens.keys import KeysScreen, key_rows
from loopterm.tui.screens.lane_detail import LaneDetailScreen
from loopterm.tui.screens.race import TICK_S, RaceScreen
from loopterm.tui.screens.summary import SummaryScreen
from loopterm.tui.themes import DEFAULT_THEME, all_theme_folders, fill_app_variables, load_themes
from loopterm.tui.widgets.code_view import warm_up
from loopterm.tui.widgets.lane_pane import LanePane

if TYPE_CHECKING:
    from textual._path import CSSPathType  # Textual's own alias for CSS_PATH (a private module: types only)

# The viewer's exit codes, named for what happened in it (values: loopterm.exits).
EXIT_OK = Exit.OK
EXIT_FAILED = Exit.FAILED
EXIT_QUIT_LIVE = Exit.INTERRUPTED  # like Ctrl-C: the user stopped a live race
EXIT_HANGUP = Exit.HANGUP  # the terminal went away (SSH dropped, tmux killed)

TraceFolder = Path | Callable[[], Path | None] | None


_REPLAY_STEPS = {"toggle_pause", "faster", "slower", "jump_to_end", "restart"}  # ReplayControls methods


class LooptermApp(App[int]):
    TITLE = "loopterm"
    CSS_PATH: ClassVar[CSSPathType | None] = "loopterm.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, id="quit.ctrl-c"),
        Binding("s", "summary", "Summary", id="summary"),
        Binding("c", "chart", "Chart", id="chart"),
        Binding("p", "screenshot_to_trace", "Screenshot", id="screenshot"),
        Binding("question_mark,f1", "keys", "Keys", key_display="?", id="keys"),
        Binding("space", "replay('toggle_pause')", "Pause", id="replay.pause"),
        # One footer entry for both speed keys: at 80 columns every replay key must show.
        Binding("plus,equals_sign", "replay('faster')", "Speed", key_display="+/-", id="replay.faster"),
        Binding("minus", "replay('slower')", "Slower", key_display="-", show=False, id="replay.slower"),
        Binding("e", "replay('jump_to_end')", "End", id="replay.end"),
        Binding("r", "replay('restart')", "Restart", id="replay.restart"),
    ]

    def __init__(
        self,
        source: EventSource,
        *,
        controls: ReplayControls | None = None,
        theme: str | None = None,
        now: Callable[[], float] | None = None,
        trace_folder: TraceFolder = None,
        glyphs: Glyphs | None = None,
        theme_folders: Iterable[Path] | None = None,
        stop_on_signals: bool = False,
        notices: Iterable[str] = (),
        fps: int | None = None,
        yield_cpu: bool = False,
    ) -> None:
        loaded, errors = load_themes(all_theme_folders() if theme_folders is None else theme_folders)
        super().__init__()
        self._loaded_themes = loaded
        # Shown as warning toasts once the app is running: the full screen hides stderr.
        self._notices: list[tuple[str, str]] = [(message, "warning") for message in notices]
        self._yield_cpu = yield_cpu
        self.notices: list[str] = []  # every toast shown, for tests and bug reports
        self._replay_notice: Notification | None = None  # the replay keys' last toast
        for theme_obj in self._loaded_themes:
            self.register_theme(theme_obj)
        for error in errors:
            self._notices.append((f"theme file skipped: {error}", "warning"))
        self.theme = self._pick_theme(theme)
        self.source = source
        self.controls = controls
        self.race = RaceState()
        self.events: list[Event] = []
        self.view_clock = ViewClock(controls)
        self.now: Callable[[], float] = now or self.view_clock
        self.glyphs = glyphs or choose_glyphs()
        # Outside text is made visible where it is drawn; this catches anything that was missed.
        self._filters.append(VisibleFilter())
        if self.glyphs.ascii:
            self._filters.append(AsciiFilter())  # what Rich and Textual draw themselves (…, ⏎, ▏)
        self._trace_folder = trace_folder
        self.race_worker: Worker[None] | None = None
        self.source_error: str | None = None
        self.user_quit_live = False
        self._quitting = False
        self._screenshots = 0
        self._stop_on_signals = stop_on_signals
        self._no_drawing = ExitStack()  # holds a batch update open once the terminal is gone
        self._news: set[str | None] = set()  # lanes with events not yet on screen (None: every lane)
        self._news_due = False
        self._news_shown_at = 0.0
        self.fps = DEFAULT_FPS if fps is None else fps
        self.news_s = 1 / self.fps  # news repaints at most this often, each covering every event since
        self.tick_s = max(TICK_S, self.news_s)
        self.terminal_lost = False

    # Themes --------------------------------------------------------------

    def say(self, message: str, severity: str = "information", timeout: float = 8) -> None:
        """A toast; file names and theme text are never read as markup. Kept in ``notices``.

        An error's or a trace's words may carry escape sequences: they are shown as ``^[``.
        """
        message = visible(message, multiline=True)
        self.notices.append(message)
        self.notify(message, severity=severity, timeout=timeout, markup=False)  # type: ignore[arg-type]

    def _pick_theme(self, name: str | None) -> str:
        fallback = DEFAULT_THEME if DEFAULT_THEME in self.available_themes else "textual-dark"
        if not name:
            return fallback
        if name in self.available_themes:
            return name
        ours = sorted(t.name for t in self._loaded_themes)
        self._notices.append(
            (
                f"unknown theme {name!r}; using {fallback}. Themes: {', '.join(ours)} (or a file in the themes dir)",
                "warning",
            )
        )
        return fallback

    def get_css_variables(self) -> dict[str, str]:
        # Any theme, even one of Textual's own picked from the palette, gets our colours.
        variables = fill_app_variables(super().get_css_variables())
        ascii_only = getattr(self, "glyphs", None) is not None and self.glyphs.ascii
        variables.update(border_variables(ascii_only))
        return variables

    # Running the source ----------------------------------------------------

    def get_default_screen(self) -> Screen[Any]:
        return RaceScreen(self.race, self.now, self.glyphs, self.controls, tick_s=self.tick_s)

    def on_mount(self) -> None:
        for message, severity in self._notices:
            self.say(message, severity)
        self._notices.clear()
        if self.glyphs.ascii:
            self.screen.add_class("-ascii")
        if self._stop_on_signals:
            catch_signals(self)
        if isinstance(self.source, EngineSource) and self.source.before_clock is None:
            self.source.before_clock = self.drawn_before_clock
        self.race_worker = self._run_source()
        self.run_worker(warm_up, name="warm-up", thread=True, exit_on_error=False)

    def lose_terminal(self) -> None:
        """No terminal any more: draw nothing, resume nothing; ``shutdown`` ends the process."""
        if self.terminal_lost:
            return
        self.terminal_lost = True
        with suppress(ValueError):
            signal.signal(signal.SIGCONT, signal.SIG_DFL)
        self._no_drawing.enter_context(self.batch_update())

    @work(name="race", group="race", exit_on_error=False)
    async def _run_source(self) -> None:
        try:
            await self.source.run(self._on_event)
        except Exception as exc:  # the race failed to run at all (e.g. the sandbox would not start)
            self.source_error = f"{type(exc).__name__}: {exc}"
            self.say(f"the race stopped with an error: {self.source_error}", "error", timeout=30)
            self._news.add(None)  # the race screen's last line says it stopped, and how to quit
            self._schedule_news()

    def _on_event(self, event: Event) -> None:
        """The source's sink: called for every event, on this loop. Only updates plain state."""
        if isinstance(event, RaceStarted):
            self.events = []
            self.view_clock.start(event.t)
        self.events.append(event)
        self.race.apply(event)
        if isinstance(event, RaceDone):
            self.view_clock.stop(event.t)
        else:
            self.view_clock.saw(event.t)
        if isinstance(event, RaceStarted):
            self.call_later(self._sync_lanes)
        lane = getattr(event, "lane", None)
        self._news.add(lane if isinstance(lane, str) else None)
        self._schedule_news()

    def _schedule_news(self) -> None:
        """Repaint soon for the news; coalesced, so a burst of events costs one repaint."""
        if self._news_due:
            return
        self._news_due = True
        wait = self.news_s - (time.monotonic() - self._news_shown_at)
        if wait > 0:
            self.set_timer(wait, self._show_news)
        else:
            self.call_later(self._show_news)

    def _show_news(self) -> None:
        self._news_due = False
        self._news_shown_at = time.monotonic()
        lanes, self._news = self._news, set()
        for screen in self.screen_stack:  # a modal's screen below shows through it
            show = getattr(screen, "show_news", None)
            if show is not None and screen.is_mounted:  # its widgets are ready for content
                show(lanes)

    async def _sync_lanes(self) -> None:
        for screen in self.screen_stack:
            if isinstance(screen, RaceScreen):
                await screen.sync_lanes()

    async def drawn_before_clock(self) -> None:
        """The race is announced and its clock not yet started: mount and draw the panes now.

        A live source awaits this between ``RaceStarted`` and the race clock's
        start (``EngineSource.before_clock``), so laying out the panes, the
        viewer's costliest moment, does not compete with the first lanes for
        the CPU. The view clock restarts at 0 once the frame is drawn, when
        the race clock does.
        """
        await self._sync_lanes()
        drawn = asyncio.Event()
        self.call_after_refresh(drawn.set)
        await drawn.wait()
        if self._yield_cpu:
            yield_cpu_to_the_race()
        self.view_clock.start(0.0)

    @property
    def race_running(self) -> bool:
        worker = self.race_worker
        return worker is not None and worker.state in (WorkerState.PENDING, WorkerState.RUNNING)

    # Quitting -------------------------------------------------------------

    async def action_quit(self) -> None:
        """Quit; a live race that is still running asks first (every lane would stop)."""
        if self._quitting:
            return
        if self.source.live and self.race_running and not self.race.done:
            if not isinstance(self.screen, ConfirmQuit):
                self.push_screen(ConfirmQuit(), callback=self._quit_confirmed)
            return
        await self.shutdown()

    def _quit_confirmed(self, quit_race: bool | None) -> None:
        if quit_race:
            self.call_later(self.shutdown)

    async def shutdown(self) -> None:
        """Stop the source, wait until it has written its last events, then exit."""
        if self._quitting:
            return
        self._quitting = True
        worker = self.race_worker
        if worker is not None and self.race_running:
            self.user_quit_live = self.source.live and not self.race.done
            worker.cancel()
            # The engine records every running lane as ABORTED and ends the trace with
            # race_done(aborted); wait for that so the trace is complete on disk.
            with suppress(WorkerCancelled, WorkerFailed):
                await worker.wait()
        if self._stop_on_signals and (self.terminal_lost or terminal_gone()):
            # The trace is complete. Textual's teardown would now restore a terminal
            # that is gone, and its writer thread died on the first failed write, so
            # that teardown blocks for ever (textual 8.2): end the process here instead.
            os._exit(EXIT_HANGUP)
        self.exit(self.exit_code())

    def exit_code(self) -> int:
        if self.user_quit_live:
            return EXIT_QUIT_LIVE
        if self.source_error is not None:
            return EXIT_FAILED
        return EXIT_OK

    # Screens ----------------------------------------------------------------

    def _show(self, showing: Callable[[Screen[Any]], bool], make: Callable[[], Screen[Any]]) -> None:
        """One screen above the race at a time: s, c or a lane replace each other."""
        if isinstance(self.screen, ConfirmQuit) or showing(self.screen):
            return
        while len(self.screen_stack) > 1:
            self.pop_screen()
        self.push_screen(make())

    def action_summary(self) -> None:
        self._show(lambda s: isinstance(s, SummaryScreen), lambda: SummaryScreen(self.race, lambda: self.events))

    def action_chart(self) -> None:
        self._show(lambda s: isinstance(s, ChartScreen), lambda: ChartScreen(self.race, self.now, self.glyphs))

    def action_open_lane(self, run_id: str) -> None:
        if self.race.lane(run_id) is None:
            return
        self._show(
            lambda s: isinstance(s, LaneDetailScreen) and s.run_id == run_id,
            lambda: LaneDetailScreen(self.race, run_id),
        )

    def action_keys(self) -> None:
        """The keys of the screen on top (and what the badges mean); pressed again, back."""
        screen = self.screen
        if isinstance(screen, ConfirmQuit):
            return
        if isinstance(screen, KeysScreen):
            self.pop_screen()
            return
        self.push_screen(KeysScreen(key_rows(screen), self.glyphs))

    def on_lane_pane_opened(self, message: LanePane.Opened) -> None:
        self.action_open_lane(message.run_id)

    # Screenshots ---------------------------------------------------------------

    def screenshot_folder(self) -> Path:
        """The trace folder when known (screenshots belong with the race), else the cwd."""
        folder = self._trace_folder() if callable(self._trace_folder) else self._trace_folder
        if folder is None:
            folder = getattr(self.source, "trace_folder", None)
        if folder is None:
            root = getattr(self.source, "trace_root", None)
            if root is not None and self.race.race_id:
                folder = Path(root) / self.race.race_id
        return Path(folder) if folder is not None else Path.cwd()

    def action_screenshot_to_trace(self) -> None:
        folder = self.screenshot_folder()
        while True:  # the next free number: a replay must not overwrite the live race's slides
            self._screenshots += 1
            name = f"screenshot-{self.race.race_id or 'race'}-{self._screenshots:02d}.svg"
            if not (folder / name).exists():
                break
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = self.save_screenshot(filename=name, path=str(folder))
        except OSError as exc:
            self.say(f"could not save the screenshot in {folder}: {exc}", "error")
            return
        self.say(f"screenshot saved: {path}")

    # Replay keys ----------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "replay":
            return self.controls is not None
        return True

    def action_replay(self, step: str) -> None:
        """One of the replay keys: ``step`` names the ReplayControls method it calls."""
        if self.controls is not None and step in _REPLAY_STEPS:
            getattr(self.controls, step)()
            if not isinstance(self.screen, RaceScreen) and not self.screen.query("#bench-progress"):
                # The lane detail, summary and chart have no REPLAY badge: say what the key did.
                done = {"jump_to_end": " · at the end", "restart": " · from the start"}.get(step, "")
                paused = " · PAUSED" if self.controls.paused else ""
                self._replay_toast(f"REPLAY x{self.controls.speed:g}{paused}{done}")

    def _replay_toast(self, message: str) -> None:
        """One toast for the replay keys, replaced by the next key's (a burst of + is one toast)."""
        old = self._replay_notice
        if old is not None and old in self._notifications:
            self._unnotify(old)
        self._replay_notice = Notification(message, "", "information", 2, markup=False)
        self.post_message(Notify(self._replay_notice))

    # Command palette ---------------------------------------------------------------

    def get_key_display(self, binding: Binding) -> str:
        display = super().get_key_display(binding)
        return "enter" if display == "⏎" and self.glyphs.ascii else display

    def action_command_palette(self) -> None:
        if self.use_command_palette and not isinstance(self.screen, CommandPalette):
            self.push_screen(Palette(id="--command-palette"))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        return loopterm_commands(self, super().get_system_commands(screen))

    def search_themes(self) -> None:
        # The palette's "Theme" command opens a second palette: Textual's own has the emoji prompt.
        self.push_screen(Palette(providers=[ThemeProvider], placeholder="Search for themes…"))


def border_variables(ascii_only: bool) -> dict[str, str]:
    """The panes' border shapes: Unicode lines, or ASCII ones (focus then reverses the title)."""
    if ascii_only:
        return {
            "lt-border": "ascii",
            "lt-border-focus": "ascii",
            "lt-edge": "ascii",
            "lt-edge-focus": "ascii",
            "lt-focus-title": "bold reverse",
        }
    return {
        "lt-border": "round",
        "lt-border-focus": "heavy",
        "lt-edge": "outer",
        "lt-edge-focus": "heavy",
        "lt-focus-title": "bold",
    }


# How much the viewer steps back where the idle scheduling class is refused (``os.nice``).
VIEWER_NICENESS = 19


def yield_cpu_to_the_race() -> None:
    """Run this process only on CPU time the race leaves idle, once its engine (and sandbox) run.

    On a machine with few cores the viewer and the race compete for them. Every
    thread of the viewer moves to Linux's ``SCHED_IDLE`` class: the scheduler
    runs it only when nothing else wants a core, so repainting eight panes
    never takes a core from the engine, its check runner or a candidate (at
    nice +10 it still took about a tenth of a busy core, and stretched a 1.3 s
    lane by 7-12% on 2 cores). The price is the display's, not the race's:
    while the race keeps every core busy the panes wait, then catch up. Only
    the viewer changes: the engine was started before and keeps its class and
    priority. An unprivileged process may always make itself idle; where the
    class is missing or refused, the viewer takes the lowest priority instead
    (nice +19), and if that is refused too the race runs as before.
    """
    if _idle_class():
        return
    with suppress(OSError):
        os.nice(VIEWER_NICENESS)


def _idle_class() -> bool:
    """Every thread of this process in ``SCHED_IDLE`` (a Linux scheduling class is per thread)."""
    policy = getattr(os, "SCHED_IDLE", None)
    if policy is None:
        return False
    try:
        threads = [int(tid) for tid in os.listdir("/proc/self/task")]
        for tid in threads:
            os.sched_setscheduler(tid, policy, os.sched_param(0))
    except (OSError, ValueError):
        return False
    return True


def source_clock(source: EventSource) -> Callable[[], float] | None:
    """The source's own race clock (a replay's ``position()``), if it has one."""
    position = getattr(source, "position", None)
    return position if callable(position) else None


def make_app(
    source: EventSource,
    *,
    controls: ReplayControls | None = None,
    theme: str | None = None,
    now: Callable[[], float] | None = None,
    trace_folder: TraceFolder = None,
    glyphs: Glyphs | None = None,
    theme_folders: Iterable[Path] | None = None,
    stop_on_signals: bool = False,
    notices: Iterable[str] = (),
    fps: int | None = None,
    yield_cpu: bool = False,
) -> LooptermApp:
    """The race viewer for ``source``.

    ``controls``: a replay's controls (shows the REPLAY badge, binds its keys).
    ``theme``: a theme name; unknown names fall back to the default with a notice.
    ``now``: race time in seconds for the ticking timers (tests pass a frozen clock).
        Default: the source's own ``position()`` when it has one (a replay's clock),
        else a clock that follows the events.
    ``trace_folder``: where screenshots go (a path, or a function returning one).
    ``glyphs``: ASCII or Unicode bars (default: chosen from the environment).
    ``theme_folders``: where themes are read from (default: built-in, then the user's).
    ``stop_on_signals``: SIGTERM/SIGHUP stop the race cleanly (the CLI sets it; tests do not).
    ``notices``: warnings shown as toasts once the app runs (e.g. what a trace reader skipped).
    ``fps``: the most repaints a second (default ``DEFAULT_FPS``); below 10 the timers tick slower too.
    ``yield_cpu``: once a live race's panes are drawn, the viewer lowers its own CPU
        priority (``yield_cpu_to_the_race``; the CLI sets it: a test process keeps its own).
    """
    return LooptermApp(
        source,
        controls=controls,
        theme=theme,
        now=now or source_clock(source),
        trace_folder=trace_folder,
        glyphs=glyphs,
        theme_folders=theme_folders,
        stop_on_signals=stop_on_signals,
        notices=notices,
        fps=fps,
        yield_cpu=yield_cpu,
    )
