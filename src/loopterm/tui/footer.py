"""The key bindings line at the bottom of every screen: complete from the first frame, fitted to the width.

Textual's own ``Footer`` composes nothing until its screen announces its
bindings, which happens after the first refresh, and then recomposes after
another: a new screen showed a blank footer for a frame or more (a second when
the screen was slow to paint). This one composes its keys with the screen, and
recomposes later only when the keys it would show really changed.

It also fits the width: the full form (keys padded, the "^p palette" hint at
the right) when it fits, else compact keys (one space apart), then without
the palette hint, then without the keys marked ``DROPPABLE`` (the screenshot
key, then ``?``), so a replay's nine keys still show at 80 columns while a wide terminal
shows every key in the full form. A key left out still works, and the
palette (Ctrl+P) lists every action.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from rich.cells import cell_len
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

# Binding ids, left out of the footer first, in the order the footer shows them (the palette lists them too).
DROPPABLE = ("screenshot", "keys")


@dataclass(frozen=True)
class FooterEntry:
    """One key as the footer shows it."""

    key_display: str
    description: str
    binding_id: str | None = None


@dataclass(frozen=True)
class FooterFit:
    compact: bool
    palette: bool
    dropped: frozenset[str] = frozenset()  # binding ids left out


def entry_width(entry: FooterEntry, compact: bool) -> int:
    """Cells a key takes in Textual's footer: padding around the key and after the words, or
    (compact) one space between key and words and one after."""
    return cell_len(entry.key_display) + cell_len(entry.description) + (2 if compact else 3)


def fit_footer(entries: Iterable[FooterEntry], width: int, palette: FooterEntry | None) -> FooterFit:
    """The fullest form of the footer that fits ``width`` cells; the most compact one if none does."""
    entries = list(entries)
    droppable = [e.binding_id for e in entries if e.binding_id in DROPPABLE]
    options = [FooterFit(False, True), FooterFit(True, True), FooterFit(True, False)]
    options += [FooterFit(True, False, frozenset(droppable[: n + 1])) for n in range(len(droppable))]
    for fit in options:
        used = sum(entry_width(e, fit.compact) for e in entries if e.binding_id not in fit.dropped)
        if fit.palette and palette is not None:
            # Textual draws this key compact in either form, with a border and (full form) a space after.
            used += entry_width(palette, True) + 1 + (0 if fit.compact else 1)
        if used <= width:
            return fit
    return options[-1]


class KeysFooter(Footer):
    """Textual's footer, composed with its screen and fitted to the width (see the module's docstring)."""

    def __init__(self) -> None:
        super().__init__()
        # Textual's footer waits for this until the screen's first bindings signal.
        self.set_reactive(Footer._bindings_ready, True)
        self._composed: tuple[object, ...] | None = None

    def _shown(self) -> tuple[list[tuple[Binding, bool, str]], tuple[Binding, bool, str] | None]:
        """The screen's shown bindings (one per action, the first bound), and the palette's."""
        active = self.screen.active_bindings
        by_action: dict[str, tuple[Binding, bool, str]] = {}
        for _node, binding, enabled, tooltip in active.values():
            if binding.show:
                by_action.setdefault(binding.action, (binding, enabled, tooltip))
        palette = None
        if self.app.ENABLE_COMMAND_PALETTE and self.app.COMMAND_PALETTE_BINDING in active:
            _node, binding, enabled, tooltip = active[self.app.COMMAND_PALETTE_BINDING]
            palette = (binding, enabled, tooltip)
        return list(by_action.values()), palette

    def _entry(self, binding: Binding) -> FooterEntry:
        return FooterEntry(self.app.get_key_display(binding), binding.description, binding.id)

    def _plan(self) -> tuple[tuple[object, ...], FooterFit]:
        shown, palette = self._shown()
        entries = [self._entry(binding) for binding, _, _ in shown]
        palette_entry = self._entry(palette[0]) if palette is not None else None
        fit = fit_footer(entries, self.app.size.width, palette_entry)
        keys = tuple((e, enabled) for e, (_, enabled, _) in zip(entries, shown, strict=True))
        return (keys, palette_entry, palette[1] if palette else None, fit), fit

    def compose(self) -> ComposeResult:
        plan, fit = self._plan()
        self._composed = plan
        self.set_reactive(Footer.compact, fit.compact)
        self.set_class(fit.compact, "-compact")
        shown, palette = self._shown()
        for binding, enabled, tooltip in shown:
            if binding.id in fit.dropped:
                continue
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                disabled=not enabled,
                tooltip=tooltip,
            ).data_bind(compact=Footer.compact)
        if fit.palette and palette is not None:
            binding, enabled, tooltip = palette
            yield FooterKey(
                binding.key,
                self.app.get_key_display(binding),
                binding.description,
                binding.action,
                classes="-command-palette",
                disabled=not enabled,
                tooltip=binding.tooltip or binding.description,
            )

    def _recompose_if_changed(self) -> None:
        if self.is_attached and self._plan()[0] != self._composed:
            self.refresh(recompose=True)

    def bindings_changed(self, screen: Screen[Any]) -> None:
        if screen is self.screen:
            self._recompose_if_changed()

    def on_resize(self) -> None:
        self._recompose_if_changed()


def make_footer(app: App[Any]) -> Footer:
    """The footer of every screen (``app`` is kept for callers; the footer reads its own app)."""
    return KeysFooter()
