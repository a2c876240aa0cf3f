"""Which assistant model the chat panel uses, remembered in QSettings with the folders chosen before."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings

MODEL_KEY = "assistant/model"
RECENT_KEY = "assistant/recent_models"
MAX_RECENT_MODELS = 5


class ChatSettings:
    """The chosen model (None: the shipped default) and the recently chosen model folders."""

    def __init__(self, settings: QSettings) -> None:
        self.qsettings = settings

    def model_path(self) -> Path | None:
        value = str(self.qsettings.value(MODEL_KEY, "") or "")
        return Path(value) if value else None

    def recent_models(self) -> list[Path]:
        value = self.qsettings.value(RECENT_KEY, [])
        if isinstance(value, str):  # QSettings returns a lone string for a one-item list
            value = [value]
        return [Path(item) for item in (value or []) if item]

    def set_model_path(self, path: Path | None) -> None:
        """Choose `path` (None: the shipped default); a folder goes to the front of the recent list."""
        self.qsettings.setValue(MODEL_KEY, "" if path is None else str(path))
        if path is not None:
            recent = [Path(path)] + [item for item in self.recent_models() if item != Path(path)]
            self.qsettings.setValue(RECENT_KEY, [str(item) for item in recent[:MAX_RECENT_MODELS]])
        self.qsettings.sync()
