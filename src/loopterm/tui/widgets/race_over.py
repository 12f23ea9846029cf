"""The line at the foot of the race screen once the race is over: how it ended, and what to press.

Hidden while the race runs. When the race finishes (or is aborted, or its
source fails) the viewer stays up so the panes can be read; this line says
so, and names the keys that matter then with the keys actually bound to them
(a keymap may have moved ``s`` or ``q``).
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget

from loopterm.racestate import RaceState
from loopterm.sanitize import visible
from loopterm.tui.legend import OVER_KEYS, race_over_variants


class RaceOver(Widget):
    def __init__(self, race: RaceState, replay: bool) -> None:
        super().__init__(id="race-over")
        self.race = race
        self.replay = replay
        self.variants: list[str] = []
        self.text = ""  # the words on screen, for tests
        self._shown: tuple[object, ...] | None = None  # the race's state the line was last built for
        self.display = False

    def on_mount(self) -> None:
        self.show_news()

    def tick(self) -> None:
        """The screen's clock: catch an end whose news came before the screen was mounted (a fast replay)."""
        if self._state() != self._shown:
            self.show_news()

    def _state(self) -> tuple[object, ...]:
        race = self.race
        return (race.generation, race.done, race.aborted, race.race_t_end, getattr(self.app, "source_error", None))

    def show_news(self) -> None:
        """The race moved on: show the line once it is over, hide it again on a replay's restart."""
        self._shown = self._state()
        error = getattr(self.app, "source_error", None)
        variants = race_over_variants(self.race, self.replay, error, self._keys()) if self._over(error) else []
        if variants == self.variants:
            return
        self.variants = variants
        self.display = bool(variants)
        self.set_class(self.race.aborted or (error is not None and not self.race.done), "-aborted")
        self.refresh()

    def _over(self, error: str | None) -> bool:
        return self.race.done or error is not None

    def _keys(self) -> dict[str, str]:
        """The key bound to each binding the line names, as the footer would show it."""
        keys: dict[str, str] = {}
        for key, active in self.screen.active_bindings.items():
            binding = active.binding
            if binding.id in OVER_KEYS and binding.id not in keys:
                keys[binding.id] = self.app.get_key_display(binding.with_key(key))
        return keys

    def render(self) -> Text:
        width = self.content_size.width
        words = next((text for text in self.variants if len(text) <= width), self.variants[-1] if self.variants else "")
        self.text = words
        return Text(visible(words), no_wrap=True, overflow="ellipsis")
