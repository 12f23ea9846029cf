"""Asks before quitting a live race: quitting stops every running lane.

A second Ctrl+C here quits without more questions, as terminal programs do: the
race still stops cleanly (every lane recorded as aborted, the trace complete).
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label


class ConfirmQuit(ModalScreen[bool]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Quit", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "Keep watching", id="confirm.no"),
        # Replaces Textual's ctrl+c "copy selected text", which let a second Ctrl+C do nothing here.
        Binding("ctrl+c", "answer(True)", "Quit", show=False, id="confirm.ctrl-c"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box"):
            yield Label("Quit the live race?", id="confirm-title")
            yield Label(
                "Running lanes stop now and are recorded as aborted; the trace stays complete. Ctrl+C again quits too.",
                id="confirm-text",
            )
            with Horizontal(id="confirm-buttons"):
                yield Button("Quit (y)", variant="error", id="confirm-yes")
                yield Button("Keep watching (n)", variant="primary", id="confirm-no")

    def on_mount(self) -> None:
        self.query_one("#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, quit_race: bool) -> None:
        self.dismiss(quit_race)
