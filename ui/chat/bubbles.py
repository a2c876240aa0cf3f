"""The pieces of a conversation: the designer's message bubbles and the assistant's reply bubbles.

A reply bubble shows the reply as it streams in (text with tool-call chips and a caret), then its notes
("Stopped.", a tool without result...) and, when the reply carries prompt fields, "Apply" and "Apply and
generate" buttons. Bubbles are plain widgets: the chat panel stacks them, the controller fills them.
"""

from __future__ import annotations

import math
import re

from PySide6.QtCore import QMimeData, QSizeF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPalette, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from ui.chat.chips import (
    Chip,
    ChipPainter,
    insert_chip,
    install_chips,
    reply_chips,
    split_reply,
    text_with_calls,
)

FIELD_LABEL = re.compile(r"(?m)^(Prompt:|Negative prompt:|Size:)")
CARET = "▍"
BUBBLE_STYLE = """
QFrame#userBubble { background: #2c4a72; border-radius: 10px; }
QFrame#replyBubble { background: #34343a; border-radius: 10px; }
QFrame#replyBubble[failed="true"] { background: #4a2629; }
QLabel#chatNotes { color: #a0a0a8; font-style: italic; }
QLabel#chatApplied { color: #8fd19e; }
QLabel#chatSpeaker { color: #9a9aa2; font-size: 11px; }
"""


class ReplyView(QTextEdit):
    """Read-only rich text that is exactly as tall as its content and can show chips."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                     | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setMinimumWidth(80)
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Base, QColor(0, 0, 0, 0))
        self.setPalette(palette)
        self.viewport().setAutoFillBackground(False)
        self.document().setDocumentMargin(0)
        self._chip_painter = ChipPainter(self)  # the document layout keeps no reference of its own
        install_chips(self.document(), self._chip_painter)
        self.document().documentLayout().documentSizeChanged.connect(self._fit_height)
        self._fit_height(self.document().size())

    def show_reply(self, raw: str, *, streaming: bool) -> None:
        """Show the raw reply: text, chips for its calls, field labels in bold, a caret while `streaming`."""
        self.document().clear()
        cursor = QTextCursor(self.document())
        plain = QTextCharFormat()
        label = QTextCharFormat()
        label.setFontWeight(QFont.Weight.Bold)
        label.setForeground(QColor("#c9d8ff"))
        for piece in split_reply(raw, streaming=streaming):
            if isinstance(piece, Chip):
                insert_chip(cursor, piece)
                continue
            for index, part in enumerate(FIELD_LABEL.split(piece)):
                cursor.insertText(part, label if index % 2 else plain)
        if streaming:
            caret = QTextCharFormat()
            caret.setForeground(QColor("#7fa8e0"))
            cursor.insertText(CARET, caret)

    def show_note(self, text: str, *, color: str = "#a0a0a8") -> None:
        """Show `text` alone, in a muted colour (waiting, errors)."""
        self.document().clear()
        note = QTextCharFormat()
        note.setForeground(QColor(color))
        QTextCursor(self.document()).insertText(text, note)

    def chips(self) -> list[Chip]:
        return reply_chips(self.document())

    def text_with_calls(self) -> str:
        """The shown text with each chip written as its call."""
        return text_with_calls(self.document())

    def createMimeDataFromSelection(self) -> QMimeData:
        """Copying gives the chips as readable calls instead of object placeholders."""
        cursor = self.textCursor()
        data = QMimeData()
        data.setText(text_with_calls(self.document(), cursor.selectionStart(), cursor.selectionEnd()))
        return data

    def _fit_height(self, size: QSizeF) -> None:
        self.setFixedHeight(math.ceil(size.height()) + 2)


class UserBubble(QFrame):
    """The designer's message, right-aligned in a tinted bubble."""

    def __init__(self, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("userBubble")
        self.setStyleSheet(BUBBLE_STYLE)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 6)
        self.label = QLabel(text)
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.label)
        self._text_width = max((self.label.fontMetrics().horizontalAdvance(line) for line in text.splitlines()),
                               default=0) + 2

    def fit(self, available: int) -> None:
        """Be as wide as the text needs, at most `available` pixels (short messages make small bubbles)."""
        margins = self.layout().contentsMargins()
        self.label.setFixedWidth(max(40, min(self._text_width, available - margins.left() - margins.right())))


class ReplyBubble(QFrame):
    """One assistant reply: streamed text, notes, and Apply actions once it is done."""

    apply_clicked = Signal(bool)  # generate afterwards

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("replyBubble")
        self.setStyleSheet(BUBBLE_STYLE)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 6, 10, 8)
        layout.setSpacing(4)
        self.view = ReplyView()
        layout.addWidget(self.view)
        self.notes_label = QLabel()
        self.notes_label.setObjectName("chatNotes")
        self.notes_label.setWordWrap(True)
        self.notes_label.hide()
        layout.addWidget(self.notes_label)
        self.actions = QWidget()
        row = QHBoxLayout(self.actions)
        row.setContentsMargins(0, 2, 0, 0)
        self.apply_button = QPushButton("Apply")
        self.apply_button.setToolTip("Put this prompt and size into the Generate panel (one undo step)")
        self.apply_button.clicked.connect(lambda: self.apply_clicked.emit(False))
        self.generate_button = QPushButton("Apply and generate")
        self.generate_button.setToolTip("Put this prompt and size into the Generate panel and start a generation")
        self.generate_button.clicked.connect(lambda: self.apply_clicked.emit(True))
        self.applied_label = QLabel("✓ Applied")
        self.applied_label.setObjectName("chatApplied")
        self.applied_label.hide()
        row.addWidget(self.apply_button)
        row.addWidget(self.generate_button)
        row.addWidget(self.applied_label)
        row.addStretch(1)
        self.actions.hide()
        layout.addWidget(self.actions)
        self.view.show_note("…")

    def show_waiting(self, text: str) -> None:
        self.view.show_note(text)

    def show_stream(self, raw: str) -> None:
        self.view.show_reply(raw, streaming=True)

    def finish(self, raw: str, *, notes: list[str], has_fields: bool) -> None:
        """The reply is complete: final text, notes, and the Apply buttons when it carries fields."""
        if raw.strip():
            self.view.show_reply(raw, streaming=False)
        else:
            self.view.show_note("(no reply)")
        self.notes_label.setText(" ".join(notes))
        self.notes_label.setVisible(bool(notes))
        self.actions.setVisible(has_fields)

    def fail(self, message: str) -> None:
        self.setProperty("failed", True)
        self.style().unpolish(self)
        self.style().polish(self)
        self.view.show_note(message, color="#ffc9c9")
        self.actions.hide()

    def mark_applied(self) -> None:
        self.applied_label.show()
