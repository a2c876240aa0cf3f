"""The chat panel's model list: the built-in assistant, folders chosen before, and "Browse…" for another."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QWidget

BROWSE = "browse"
BUILT_IN_LABEL = "Built-in assistant"


class ModelChoice(QComboBox):
    """Emits `chosen(path)` (None: the built-in model) when the user picks or browses to a model folder."""

    chosen = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(6)
        self.setToolTip("The language model the assistant runs: the built-in one or a local causal-LM folder")
        self._current: Path | None = None
        self.activated.connect(self._picked)

    def fill(self, *, current: Path | None, recent: list[Path]) -> None:
        """Show the choices, `current` selected (None: the built-in model)."""
        self._current = current
        self.blockSignals(True)
        self.clear()
        self.addItem(BUILT_IN_LABEL, "")
        folders = ([current] if current is not None else []) + [p for p in recent if p != current]
        for folder in folders:
            self.addItem(folder.name or str(folder), str(folder))
            self.setItemData(self.count() - 1, str(folder), Qt.ItemDataRole.ToolTipRole)
        self.insertSeparator(self.count())
        self.addItem("Browse for a model folder…", BROWSE)
        self.setCurrentIndex(max(0, self.findData("" if current is None else str(current))))
        self.blockSignals(False)

    def current_path(self) -> Path | None:
        return self._current

    def _picked(self, index: int) -> None:
        data = self.itemData(index)
        if data == BROWSE:
            start = str(self._current.parent) if self._current else str(Path.home())
            folder = QFileDialog.getExistingDirectory(self, "Choose an assistant model folder", start)
            if not folder:
                self.setCurrentIndex(max(0, self.findData("" if self._current is None else str(self._current))))
                return
            path: Path | None = Path(folder)
        else:
            path = Path(data) if data else None
        if path != self._current:
            self.chosen.emit(path)
