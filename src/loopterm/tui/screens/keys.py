"""The keys of the screen you were on, and what the viewer's badges mean (``?``, or "Keys" in the palette).

This replaces Textual's own key panel, which listed Textual's defaults
("Copy selected text", "^q Quit") rather than loopterm's keys and explained
none of the badges. The keys are read from the bindings in force on the
screen below (so a keymap's keys and a replay's extra keys show as they
are); their words and the legend come from :mod:`loopterm.tui.legend`.
"""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.actions import ActionError, parse
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from loopterm.tui.footer import make_footer
from loopterm.tui.glyphs import Glyphs
from loopterm.tui.legend import KEY_WORDS, TEXTUAL_KEYS, legend_rows

KeyRow = tuple[str, str]  # (the keys, what they do)


def key_rows(screen: Screen[object]) -> list[KeyRow]:
    """Every loopterm key in force on ``screen``: the focused widget's, the screen's and the app's.

    Keys whose words are the same share a row (``q, ^c``); rows come in the
    order Textual looks keys up (the focused widget first). Textual's own
    keys are not listed (only ``TEXTUAL_KEYS``): ours all carry an id.
    """
    app = screen.app
    rows: dict[str, list[str]] = {}
    taken: set[str] = set()
    # The chain ``Screen.active_bindings`` walks. Not that property itself: it keeps one binding
    # a key, and Textual's Screen binds ctrl+c to "copy selected text" (which passes the key on
    # when nothing is selected), so it would hide that ctrl+c quits.
    for namespace, bindings in screen._modal_binding_chain:
        for key, binding in bindings:
            if binding.id is None or key in taken or not _enabled(binding, namespace):
                continue
            taken.add(key)
            words = KEY_WORDS.get(binding.id, binding.description)
            shown = app.get_key_display(binding.with_key(key))
            keys = rows.setdefault(words, [])
            if shown not in keys:
                keys.append(shown)
    # The short keys first: "q, ^c" (Textual's base bindings put ctrl+c ahead of ours).
    listed = [(", ".join(sorted(keys, key=len)), words) for words, keys in rows.items()]
    for names, words in TEXTUAL_KEYS:
        shown = ", ".join(app.get_key_display(Binding(key, "")) for key in names.split(", "))
        listed.append((shown, words))
    return listed


def _enabled(binding: Binding, namespace: object) -> bool:
    """False when the binding's node turns its action off here (a replay key outside a replay)."""
    try:
        target, name, parameters = parse(binding.action)
    except ActionError:
        return False
    node = {"app": getattr(namespace, "app", namespace), "screen": getattr(namespace, "screen", namespace)}.get(
        target, namespace
    )
    check = getattr(node, "check_action", None)
    return check is None or check(name, parameters) is not False


def keys_table(sections: list[tuple[str, list[KeyRow]]]) -> Table:
    """Every section in one two-column grid, so the words line up from the first key to the last mark."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for n, (head, rows) in enumerate(sections):
        if n:
            table.add_row("", "")
        table.add_row(Text(head, style="bold underline"), "")
        for left, right in rows:
            table.add_row(Text(left), Text(right))  # Text: never read as markup
    return table


class KeysScreen(Screen[None]):
    """The keys of the screen it was opened over, then the legend; Esc (or ``?``) goes back."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="keys.back"),
    ]

    def __init__(self, rows: list[KeyRow], glyphs: Glyphs) -> None:
        super().__init__(id="keys-screen")
        self.rows = rows
        self.legend = legend_rows(glyphs)

    def compose(self) -> ComposeResult:
        yield Static(Text("Keys, and what the screen shows"), id="keys-title")
        with VerticalScroll(id="keys-scroll"):
            yield Static(keys_table([("Keys", self.rows), ("What the screen shows", self.legend)]), id="keys-text")
        yield make_footer(self.app)

    def on_mount(self) -> None:
        self.query_one("#keys-scroll").focus()  # the arrows and page keys scroll it
