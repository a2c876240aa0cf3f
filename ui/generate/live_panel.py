"""Live mode widgets: the "Live" toggle with the frame time (in the generation panel) and the live preview pane.

The preview pane shows one picture, the newest live frame, replaced in place (it never adds gallery entries);
"Keep" asks for the current frame to be added to the gallery as a normal result.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QPixmap, QResizeEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

from studio.engine.live import LiveSettings
from ui.common.images import rgb_to_pixmap


def live_tooltip(settings: LiveSettings) -> str:
    """What the toggle does, in the words of the live settings in use."""
    return (
        f"Live preview: a quick {settings.steps}-step {settings.scheduler.upper()} draft (guidance "
        f"{settings.guidance_scale:g}, fixed seed) is drawn a moment after each edit of the canvas, the prompt or "
        "the settings. A newer edit replaces a draft in progress.\n"
        "Live frames are not logged to the history; only a frame you Keep becomes a generation in the gallery "
        "and the history. Generate pauses live mode until its images are done."
    )


class LiveControls(QWidget):
    """The Live toggle and the frame-time label; `toggled(bool)` when the user switches it."""

    toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        self.button = QPushButton("Live")
        self.button.setCheckable(True)
        self.button.setToolTip(live_tooltip(LiveSettings()))
        self.button.toggled.connect(self.toggled)
        self.label = QLabel()
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.button)
        row.addWidget(self.label, 1)
        self.show_state("off")

    def set_checked(self, on: bool) -> None:
        """Show the toggle on or off without emitting `toggled`."""
        blocked = self.button.blockSignals(True)
        self.button.setChecked(on)
        self.button.blockSignals(blocked)

    def show_state(self, state: str, *, frame_time: float | None = None) -> None:
        """state: "off", "waiting" (on, no frame yet), "paused" (a generation runs) or "frame"."""
        if state == "frame" and frame_time is not None:
            text = f"Live: {frame_time:.2f} s / frame"
        else:
            text = {"off": "Live: off", "waiting": "Live: waiting for the first frame…",
                    "paused": "Live: paused while generating"}[state]
        self.label.setText(text)


class LivePreviewPanel(QWidget):
    """The newest live frame, scaled to fit, with its timing and a Keep button (`keep_requested`)."""

    keep_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.picture = QLabel("Switch Live on in the Generate panel to see a draft of the canvas here.")
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setWordWrap(True)
        self.picture.setMinimumSize(128, 128)
        self.picture.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        layout.addWidget(self.picture, 1)
        row = QHBoxLayout()
        self.info = QLabel()
        self.keep_button = QPushButton("Keep")
        self.keep_button.setToolTip("Add this live frame to the gallery as a result (and log it to the history)")
        self.keep_button.setEnabled(False)
        self.keep_button.clicked.connect(self.keep_requested)
        row.addWidget(self.info, 1)
        row.addWidget(self.keep_button)
        layout.addLayout(row)
        self.note = QLabel(
            "This model is not LCM-distilled, so live drafts look soft; Generate makes the full-quality picture.")
        self.note.setWordWrap(True)
        self.note.hide()
        layout.addWidget(self.note)
        self._pixmap: QPixmap | None = None

    def show_frame(self, image: np.ndarray, *, number: int, frame_time: float, latency: float,
                   lcm_model: bool) -> None:
        """Replace the picture with a new frame (RGB array) and describe it."""
        self._pixmap = rgb_to_pixmap(image)
        self._fit()
        self.info.setText(f"Edit {number} · {frame_time:.2f} s render · {latency:.2f} s after the edit")
        self.note.setVisible(not lcm_model)
        self.keep_button.setEnabled(True)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        if self._pixmap is not None:
            self.picture.setPixmap(self._pixmap.scaled(
                self.picture.size(), Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
