"""Edges from the reference picture: Canny thresholds with a live preview, applied as one undo step that replaces
the edge layer or adds the edges to what was drawn (the preview then shows both)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QSlider, QVBoxLayout, QWidget,
)

from studio.document.edge_detect import canny_edges
from ui.common.images import rgb_to_pixmap

PREVIEW_SIDE = 480
COMBINE_CHOICES = (("Replace the edge layer", "replace"), ("Add to what is drawn", "add"))


def _slider(value: int) -> QSlider:
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(0, 500)
    slider.setValue(value)
    return slider


class CannyDialog(QDialog):
    """Shows Canny edges of `picture` (HxWx3 RGB) for the chosen thresholds; `thresholds()` after accept."""

    def __init__(self, picture: np.ndarray, parent: QWidget | None = None, *,
                 drawn: np.ndarray | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edges from reference (Canny)")
        self.picture = picture
        scale = min(1.0, PREVIEW_SIDE / max(picture.shape[:2]))
        step = max(1, round(1 / scale))
        # The preview runs Canny on a decimated copy so dragging a slider stays instant on big pictures.
        self._small = np.ascontiguousarray(picture[::step, ::step])
        self._drawn = None if drawn is None else np.ascontiguousarray(drawn[::step, ::step])
        layout = QVBoxLayout(self)
        self.preview = QLabel()
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumSize(self._small.shape[1], self._small.shape[0])
        layout.addWidget(self.preview)
        form = QFormLayout()
        self.low_slider, self.high_slider = _slider(100), _slider(200)
        self.low_label, self.high_label = QLabel(), QLabel()
        form.addRow("Low threshold", self.low_slider)
        form.addRow("", self.low_label)
        form.addRow("High threshold", self.high_slider)
        form.addRow("", self.high_label)
        self.combine_combo = QComboBox()
        for text, value in COMBINE_CHOICES:
            self.combine_combo.addItem(text, value)
        self.combine_combo.setToolTip("Replace: only the traced edges stay. Add: what you drew stays and the "
                                      "traced edges join it")
        form.addRow("Edges", self.combine_combo)
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.combine_combo.currentIndexChanged.connect(self._combine_changed)
        self._combine_changed()
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self._timer = QTimer(self, singleShot=True, interval=15)
        self._timer.timeout.connect(self.update_preview)
        self.combine_combo.currentIndexChanged.connect(self._timer.start)
        for slider in (self.low_slider, self.high_slider):
            slider.valueChanged.connect(self._thresholds_changed)
        self.update_preview()

    def combine(self) -> str:
        """"replace" or "add" (see `studio.document.picture_import.edges_from_picture`)."""
        return self.combine_combo.currentData()

    def _combine_changed(self) -> None:
        self.ok_button.setText("Add to edge layer" if self.combine() == "add" else "Replace edge layer")

    def thresholds(self) -> tuple[int, int]:
        low, high = self.low_slider.value(), self.high_slider.value()
        return min(low, high), max(low, high)

    def _thresholds_changed(self) -> None:
        low, high = self.thresholds()
        self.low_label.setText(str(low))
        self.high_label.setText(str(high))
        self._timer.start()

    def update_preview(self) -> np.ndarray:
        """Recompute the preview for the current thresholds; returns the preview edges."""
        low, high = self.thresholds()
        self.low_label.setText(str(low))
        self.high_label.setText(str(high))
        edges = canny_edges(self._small, low=low, high=high)
        if self.combine() == "add" and self._drawn is not None:
            edges = np.maximum(edges, self._drawn)
        self.preview.setPixmap(rgb_to_pixmap(np.repeat(edges[:, :, None], 3, axis=2)))
        return edges
