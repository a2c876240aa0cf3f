"""A non-modal message strip: errors and notices that tell the user what happened and what to do."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget


class MessageBar(QWidget):
    """Shows one message at a time; hidden until `show_error` or `show_info`; the x button hides it."""

    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(self.dismiss)
        layout.addWidget(self.label, 1)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.kind = ""
        self.hide()

    def show_error(self, text: str) -> None:
        self._show(text, kind="error")

    def show_info(self, text: str) -> None:
        self._show(text, kind="info")

    def text(self) -> str:
        return self.label.text()

    def dismiss(self) -> None:
        self.kind = ""
        self.label.clear()
        self.hide()
        self.closed.emit()

    def _show(self, text: str, *, kind: str) -> None:
        self.kind = kind
        self.label.setObjectName("messageError" if kind == "error" else "messageInfo")
        self.label.style().unpolish(self.label)
        self.label.style().polish(self.label)
        self.label.setText(text)
        self.show()
