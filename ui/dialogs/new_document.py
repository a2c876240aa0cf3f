"""Asks for the size of a new document (with common presets)."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QDialog, QDialogButtonBox, QFormLayout, QSpinBox, QWidget

from studio.document.document import MAX_SIDE

PRESETS = (
    ("Square 512", 512, 512),
    ("Square 768", 768, 768),
    ("Square 1024", 1024, 1024),
    ("Portrait 512 × 768", 512, 768),
    ("Landscape 768 × 512", 768, 512),
    ("Portrait 832 × 1216", 832, 1216),
    ("Landscape 1216 × 832", 1216, 832),
)


class NewDocumentDialog(QDialog):
    """Width and height spin boxes plus a preset list."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New document")
        form = QFormLayout(self)
        self.preset = QComboBox()
        self.preset.addItem("Custom", None)
        for label, width, height in PRESETS:
            self.preset.addItem(label, (width, height))
        self.width_spin, self.height_spin = QSpinBox(), QSpinBox()
        for spin in (self.width_spin, self.height_spin):
            spin.setRange(64, MAX_SIDE)
            spin.setSingleStep(64)
            spin.setValue(512)
            spin.setSuffix(" px")
        self.preset.currentIndexChanged.connect(self._preset_chosen)
        form.addRow("Preset", self.preset)
        form.addRow("Width", self.width_spin)
        form.addRow("Height", self.height_spin)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _preset_chosen(self) -> None:
        size = self.preset.currentData()
        if size:
            self.width_spin.setValue(size[0])
            self.height_spin.setValue(size[1])

    def size(self) -> tuple[int, int]:
        return self.width_spin.value(), self.height_spin.value()
