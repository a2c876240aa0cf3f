"""A titled section whose body folds away behind its header (the Generate panel's Prompt, Sampling...).

The header is a flat arrow button; `set_open(False)` hides the body so narrow or short windows keep what matters
in view. `toggled(open)` lets the owner remember the choice.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QSizePolicy, QToolButton, QVBoxLayout, QWidget


class Section(QWidget):
    """A header button and a body widget shown only while the section is open."""

    toggled = Signal(bool)

    def __init__(self, title: str, body: QWidget, *, open: bool = True, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.header = QToolButton()
        self.header.setText(title)
        self.header.setCheckable(True)
        self.header.setAutoRaise(True)
        self.header.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.header.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.header.setStyleSheet("QToolButton { font-weight: bold; text-align: left; border: none; }")
        self.header.toggled.connect(self._header_toggled)
        self.body = body
        frame = QFrame()
        frame.setFrameShape(QFrame.Shape.HLine)
        frame.setFrameShadow(QFrame.Shadow.Sunken)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.header)
        layout.addWidget(body)
        layout.addWidget(frame)
        self.header.setChecked(open)
        self._header_toggled(open)

    @property
    def is_open(self) -> bool:
        return self.header.isChecked()

    def set_open(self, open: bool) -> None:
        self.header.setChecked(open)

    def _header_toggled(self, open: bool) -> None:
        self.header.setArrowType(Qt.ArrowType.DownArrow if open else Qt.ArrowType.RightArrow)
        self.body.setVisible(open)
        self.toggled.emit(open)
