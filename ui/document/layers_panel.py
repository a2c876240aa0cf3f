"""The layers panel: per layer visibility, opacity and lock, and which layer is current."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QButtonGroup, QCheckBox, QFrame, QGridLayout, QLabel, QRadioButton, QSizePolicy, QSlider, QToolButton,
    QVBoxLayout, QWidget,
)  # fmt: skip

from studio.document import ChangeEvent, Document
from studio.document.events import PROPERTY
from ui.canvas.layer_items import DISPLAY_ORDER

LAYER_TITLES = {"reference": "Reference", "edge": "Edges", "depth": "Depth", "pose": "Pose", "mask": "Mask"}


class _LayerRow:
    def __init__(self, name: str, group: QButtonGroup) -> None:
        self.name = name
        self.current = QRadioButton(LAYER_TITLES[name])
        self.current.setToolTip("Current layer")
        group.addButton(self.current)
        self.visible = QCheckBox("Show")
        self.visible.setToolTip(f"Show the {LAYER_TITLES[name].lower()} layer")
        self.locked = QCheckBox("Lock")
        self.locked.setToolTip(f"Lock the {LAYER_TITLES[name].lower()} layer against edits")
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setToolTip("Display opacity (the control image ignores it)")
        self.opacity_label = QLabel()
        self.opacity_label.setMinimumWidth(34)


class LayersPanel(QWidget):
    """Rows for the layers, topmost first. Emits `current_changed(name)` when the user picks a layer."""

    current_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._updating = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(0)  # five rows (the mask's too) in the height four took: the dock fits at 1366x768
        self._group = QButtonGroup(self)
        self.rows: dict[str, _LayerRow] = {}
        for line, name in enumerate(reversed(DISPLAY_ORDER)):
            row = _LayerRow(name, self._group)
            self.rows[name] = row
            grid.addWidget(row.current, line, 0)
            grid.addWidget(row.visible, line, 1)
            grid.addWidget(row.locked, line, 2)
            grid.addWidget(row.opacity, line, 3)
            grid.addWidget(row.opacity_label, line, 4)
            row.current.toggled.connect(lambda on, n=name: on and not self._updating and self.current_changed.emit(n))
            row.visible.toggled.connect(lambda on, n=name: self._set(n, "visible", on))
            row.locked.toggled.connect(lambda on, n=name: self._set(n, "locked", on))
            row.opacity.valueChanged.connect(lambda value, n=name: self._set(n, "opacity", value / 100.0))
        grid.setColumnStretch(3, 1)
        layout.addLayout(grid)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        layout.addWidget(line)
        self._buttons = QGridLayout()
        layout.addLayout(self._buttons)
        layout.addStretch(1)
        self.setEnabled(False)

    def add_actions(self, actions: list[QAction]) -> None:
        """Buttons for layer commands (import a reference, edges from it, clear...), two per row."""
        for action in actions:
            button = QToolButton()
            button.setDefaultAction(action)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            index = self._buttons.count()
            self._buttons.addWidget(button, index // 2, index % 2)

    def set_document(self, document: Document) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self.document = document
        self._unsubscribe = document.subscribe(self._on_change)
        for name in self.rows:
            self._show(name)
        self.setEnabled(True)

    def current(self) -> str | None:
        return next((name for name, row in self.rows.items() if row.current.isChecked()), None)

    def set_current(self, name: str) -> None:
        """Mark `name` as the current layer without emitting `current_changed`."""
        self._updating = True
        try:
            self.rows[name].current.setChecked(True)
        finally:
            self._updating = False

    def _set(self, name: str, prop: str, value) -> None:
        if self._updating or self.document is None:
            return
        setattr(self.document.layer(name), prop, value)

    def _on_change(self, event: ChangeEvent) -> None:
        if event.kind == PROPERTY and event.layer in self.rows:
            self._show(event.layer)

    def _show(self, name: str) -> None:
        layer = self.document.layer(name)
        row = self.rows[name]
        self._updating = True
        try:
            row.visible.setChecked(layer.visible)
            row.locked.setChecked(layer.locked)
            row.opacity.setValue(round(layer.opacity * 100))
            row.opacity_label.setText(f"{round(layer.opacity * 100)}%")
        finally:
            self._updating = False
