"""The trace writer as a race's sink, guarded: a write that fails stops the race in one line.

Used by every way a race runs (plain race and bench, the engine process
behind the viewer), so a full disk reads the same everywhere.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from loopterm.events import Event
    from loopterm.traces.writer import TraceWriter


class TraceSink:
    """The trace writer as a race's sink: a write that fails (a full disk) stops the race.

    Raised from inside a lane, the OSError turned the lane into an "internal
    error", and then crashed the race when that lane's end could not be
    written either. Here the first failure is kept, ``on_failed`` stops the
    race (as Ctrl-C would), and the command says what happened in one line.
    """

    def __init__(self, writer: TraceWriter, on_failed: Callable[[], object] | None, what: str = "race") -> None:
        self.writer = writer
        self.on_failed = on_failed
        self.what = what  # "race" or "bench", for the message
        self.error: OSError | None = None

    def __call__(self, event: Event) -> None:
        if self.error is not None:
            from loopterm.events import RaceDone  # only once a write failed: this runs for every event

            if not isinstance(event, RaceDone):
                return  # the race is being stopped; its end record is still worth a try (a small file)
        try:
            self.writer(event)
        except OSError as exc:
            if self.error is None:
                self.error = exc
                if self.on_failed is not None:
                    self.on_failed()

    def close(self) -> None:
        try:
            self.writer.close()
        except OSError as exc:  # the buffered line it could not write fails again on close
            self.error = self.error or exc

    def failure(self) -> str | None:
        """One line for stderr when the trace could not be written, else None."""
        if self.error is None:
            return None
        where = self.writer.folder or self.writer.root
        return (
            f"loopterm: cannot write the trace in {where}: {self.error.strerror or self.error}; "
            f"the {self.what} was stopped (free space or pass --trace-dir DIR)"
        )
