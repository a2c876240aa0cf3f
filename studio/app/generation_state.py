"""The window's generation settings as observable state, and the undo step that changes them.

`GenerationState` holds one `GenerationSettings` value. The Generate panel binds to it (it writes what the
designer types and shows what others set); controllers, the recorder, live mode and the assistant read it here,
not from widgets. `changed(settings)` is emitted once per change, with a copy of the new value.
"""

from __future__ import annotations

from typing import Any

from studio.app.generation_settings import GenerationSettings
from studio.app.observable import Event
from studio.document.history import UndoHistory, UndoStep


class GenerationState:
    def __init__(self, settings: GenerationSettings | None = None) -> None:
        self._value = (settings or GenerationSettings()).copy()
        self.changed = Event("changed")

    @property
    def value(self) -> GenerationSettings:
        """A copy of the current settings (change it and `set` it back)."""
        return self._value.copy()

    def set(self, settings: GenerationSettings) -> bool:
        """Make `settings` current; False (and no event) when nothing changed."""
        if settings == self._value:
            return False
        self._value = settings.copy()
        self.changed.emit(self._value.copy())
        return True

    def update(self, **fields: Any) -> bool:
        """Change some fields (`update(prompt="a fox", width=768)`); unknown names raise TypeError."""
        settings = self.value
        for name, value in fields.items():
            if not hasattr(settings, name):
                raise TypeError(f"GenerationSettings has no field {name!r}.")
            setattr(settings, name, value)
        return self.set(settings)


class SettingsStep(UndoStep):
    """Generation settings changed together (e.g. the assistant's fields applied); undo sets the old ones again."""

    def __init__(self, state: GenerationState, *, before: GenerationSettings, after: GenerationSettings,
                 label: str) -> None:
        self.state = state
        self.before = before.copy()
        self.after = after.copy()
        self.label = label

    def undo(self) -> None:
        self.state.set(self.before)

    def redo(self) -> None:
        self.state.set(self.after)


def apply_settings(state: GenerationState, after: GenerationSettings, *, history: UndoHistory | None,
                   label: str) -> bool:
    """Make `after` current as one undo step on `history` (None: no undo); False when nothing changed.

    The step records what the state holds once set (what the panel could show, e.g. a clamped size), so undo and
    redo give exactly the before and after the designer saw."""
    before = state.value
    if not state.set(after):
        return False
    if history is not None:
        history.push(SettingsStep(state, before=before, after=state.value, label=label))
    return True
