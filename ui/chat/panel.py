"""The assistant chat panel: model choice, the conversation, and the message box with Send / Stop.

A view only: it emits `send_requested(text)`, `stop_requested`, `clear_requested` and
`apply_requested(turn, generate)`, and `ChatController` (ui/chat_controller.py) fills it. Enter sends,
Shift+Enter starts a new line. The conversation follows the newest text while it is scrolled to the bottom.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ui.common.message_bar import MessageBar
from ui.chat.bubbles import ReplyBubble, UserBubble
from ui.chat.model_choice import ModelChoice

HINT = ("Ask for a prompt (\"a poster of a red fox, watercolor\"), a size (\"make it 4:5 at 1080 wide\") or a date "
        "(\"what date is it in 10 days?\"). The assistant sees the current prompt and size.")


class ChatPanel(QWidget):
    """The conversation with the assistant."""

    send_requested = Signal(str)
    stop_requested = Signal()
    clear_requested = Signal()
    apply_requested = Signal(int, bool)  # reply index, generate afterwards

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.replies: list[ReplyBubble] = []
        self.user_bubbles: list[UserBubble] = []
        self._follow = True
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(6)
        layout.addLayout(self._build_header())
        self.status_label = QLabel("The model loads when you send the first message.")
        self.status_label.setObjectName("chatStatus")
        self.status_label.setStyleSheet("color: #9a9aa2;")
        self.status_label.setWordWrap(True)
        layout.addWidget(self.status_label)
        self.message_bar = MessageBar()
        layout.addWidget(self.message_bar)
        layout.addWidget(self._build_conversation(), 1)
        layout.addLayout(self._build_input())
        self.input.installEventFilter(self)
        self.scroll.viewport().installEventFilter(self)
        self.set_replying(False)

    # Building ------------------------------------------------------------------------------------
    def _build_header(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.model_choice = ModelChoice()
        row.addWidget(self.model_choice, 1)
        self.clear_button = QToolButton()
        self.clear_button.setText("Clear")
        self.clear_button.setToolTip("Start a new conversation")
        self.clear_button.clicked.connect(self.clear_requested)
        row.addWidget(self.clear_button)
        return row

    def _build_conversation(self) -> QScrollArea:
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        body.setObjectName("chatBody")
        self.column = QVBoxLayout(body)
        self.column.setContentsMargins(6, 6, 6, 6)
        self.column.setSpacing(8)
        self.hint_label = QLabel(HINT)
        self.hint_label.setWordWrap(True)
        self.hint_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint_label.setStyleSheet("color: #8a8a90; padding: 12px;")
        self.column.addWidget(self.hint_label)
        self.column.addStretch(1)
        self.scroll.setWidget(body)
        bar = self.scroll.verticalScrollBar()
        bar.rangeChanged.connect(lambda _low, high: bar.setValue(high) if self._follow else None)
        bar.valueChanged.connect(lambda value: setattr(self, "_follow", value >= bar.maximum() - 4))
        return self.scroll

    def _build_input(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.input = QPlainTextEdit()
        self.input.setPlaceholderText("Message the assistant… (Enter sends, Shift+Enter: new line)")
        self.input.setFixedHeight(self.input.fontMetrics().lineSpacing() * 3 + 14)
        row.addWidget(self.input, 1)
        buttons = QVBoxLayout()
        self.send_button = QPushButton("Send")
        self.send_button.clicked.connect(self.send)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the reply being written")
        self.stop_button.clicked.connect(self.stop_requested)
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.stop_button)
        row.addLayout(buttons)
        return row

    # Conversation --------------------------------------------------------------------------------
    def add_user_message(self, text: str) -> UserBubble:
        bubble = UserBubble(text)
        row = QHBoxLayout()
        row.addSpacing(36)
        row.addStretch(1)
        row.addWidget(bubble)
        self._add_row(row)
        self.user_bubbles.append(bubble)
        bubble.fit(self._user_bubble_width())
        return bubble

    def _user_bubble_width(self) -> int:
        return int(self.scroll.viewport().width() * 0.8)

    def add_reply(self) -> ReplyBubble:
        """A new, empty reply bubble; its Apply buttons report this reply's index."""
        bubble = ReplyBubble()
        index = len(self.replies)
        bubble.apply_clicked.connect(lambda generate: self.apply_requested.emit(index, generate))
        row = QHBoxLayout()
        row.addWidget(bubble, 1)
        row.addSpacing(24)
        self._add_row(row)
        self.replies.append(bubble)
        return bubble

    def _add_row(self, row: QHBoxLayout) -> None:
        self.hint_label.hide()
        self._follow = True
        self.column.insertLayout(self.column.count() - 1, row)

    def clear_conversation(self) -> None:
        """Remove every bubble and show the hint again."""
        while self.column.count() > 2:  # the hint and the closing stretch stay
            row = self.column.takeAt(1).layout()
            while row.count():
                widget = row.takeAt(0).widget()
                if widget is not None:
                    widget.deleteLater()
            row.deleteLater()
        self.replies.clear()
        self.user_bubbles.clear()
        self.hint_label.show()

    # State ---------------------------------------------------------------------------------------
    def set_replying(self, replying: bool) -> None:
        self.send_button.setEnabled(not replying)
        self.stop_button.setEnabled(replying)

    def set_status(self, text: str) -> None:
        self.status_label.setText(text)

    def send(self) -> None:
        """Send the typed message (ignored while a reply is being written or the box is empty)."""
        text = self.input.toPlainText().strip()
        if text and self.send_button.isEnabled():
            self.input.clear()
            self.send_requested.emit(text)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.scroll.viewport() and event.type() == QEvent.Type.Resize:
            for bubble in self.user_bubbles:
                bubble.fit(self._user_bubble_width())
        if watched is self.input and event.type() == QEvent.Type.KeyPress:
            key_event: QKeyEvent = event
            if key_event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not (
                    key_event.modifiers() & Qt.KeyboardModifier.ShiftModifier):
                self.send()
                return True
        return super().eventFilter(watched, event)
