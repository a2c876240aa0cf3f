"""Per-layer ControlNet settings: use, weight, start, end and control mode for edge, pose and depth."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QGridLayout, QLabel, QWidget

from studio.engine.request import CONTROL_KINDS, CONTROL_MODES, MAX_CONTROL_WEIGHT
from studio.app.generation_settings import CONTROL_LABELS, ControlSettings

MODE_LABELS = {"balanced": "Balanced", "prompt": "Prompt first", "control": "Control first"}


def _spin(low: float, high: float, step: float) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(low, high)
    spin.setSingleStep(step)
    spin.setDecimals(2)
    return spin


class _ControlRow:
    """The widgets of one layer's row."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.use = QCheckBox(CONTROL_LABELS[kind])
        self.use.setToolTip(f"Use the {CONTROL_LABELS[kind].lower()} layer as a ControlNet input")
        self.weight = _spin(0.0, MAX_CONTROL_WEIGHT, 0.05)
        self.weight.setToolTip("ControlNet weight (conditioning scale)")
        self.start = _spin(0.0, 1.0, 0.05)
        self.start.setToolTip("Fraction of the steps at which this control starts acting")
        self.end = _spin(0.0, 1.0, 0.05)
        self.end.setToolTip("Fraction of the steps at which this control stops acting")
        self.mode = QComboBox()
        for mode in CONTROL_MODES:
            self.mode.addItem(MODE_LABELS.get(mode, mode), mode)
        self.mode.setToolTip("Balanced, prompt is more important, or ControlNet is more important")

    def settings(self) -> ControlSettings:
        return ControlSettings(
            kind=self.kind,
            enabled=self.use.isChecked(),
            weight=self.weight.value(),
            start=self.start.value(),
            end=self.end.value(),
            mode=self.mode.currentData(),
        )

    def set_settings(self, settings: ControlSettings) -> None:
        self.use.setChecked(settings.enabled)
        self.weight.setValue(settings.weight)
        self.start.setValue(settings.start)
        self.end.setValue(settings.end)
        self.mode.setCurrentIndex(max(0, self.mode.findData(settings.mode)))
        for widget in (self.weight, self.start, self.end, self.mode):
            widget.setEnabled(settings.enabled)


class ControlTable(QWidget):
    """A grid with two lines per control layer (use, weight, start, end; then the mode under the numbers), narrow
    enough for the Generate dock at 1366x768; emits `changed` on any edit."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(2)
        for column, title in enumerate(("Layer", "Weight", "Start", "End")):
            grid.addWidget(QLabel(title), 0, column)
        self.rows: dict[str, _ControlRow] = {}
        for index, kind in enumerate(CONTROL_KINDS):
            row = _ControlRow(kind)
            self.rows[kind] = row
            line = 1 + 2 * index
            for column, widget in enumerate((row.use, row.weight, row.start, row.end)):
                grid.addWidget(widget, line, column)
            grid.addWidget(row.mode, line + 1, 1, 1, 3)
            row.use.toggled.connect(lambda _on, r=row: self._use_toggled(r))
            for spin in (row.weight, row.start, row.end):
                spin.valueChanged.connect(self.changed)
            row.mode.currentIndexChanged.connect(self.changed)
        for column in (1, 2, 3):
            grid.setColumnStretch(column, 1)

    def settings(self) -> dict[str, ControlSettings]:
        return {kind: row.settings() for kind, row in self.rows.items()}

    def set_settings(self, controls: dict[str, ControlSettings]) -> None:
        for kind, row in self.rows.items():
            if kind in controls:
                row.set_settings(controls[kind])

    def _use_toggled(self, row: _ControlRow) -> None:
        for widget in (row.weight, row.start, row.end, row.mode):
            widget.setEnabled(row.use.isChecked())
        self.changed.emit()
