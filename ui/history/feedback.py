"""Feedback on a logged generation from the history panel: rate 1-5 stars, accept, reject or comment, on the
whole generation or on the result picked in the strip."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from ui.common.images import rgb_to_pixmap
from studio.app.history_model import RESULT_SIDE, GenerationDetails

STARS = 5


class FeedbackBox(QGroupBox):
    """Shows one generation's results and feedback; emits `feedback(generation, result, verdict, rating,
    comment)` for the window to log (result None: the whole generation)."""

    feedback = Signal(int, object, object, object, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Feedback on the generation", parent)
        self.details: GenerationDetails | None = None
        layout = QVBoxLayout(self)
        self.results = QListWidget()
        self.results.setViewMode(QListWidget.ViewMode.IconMode)
        self.results.setFlow(QListWidget.Flow.LeftToRight)
        self.results.setWrapping(False)
        self.results.setIconSize(QSize(RESULT_SIDE // 2, RESULT_SIDE // 2))
        self.results.setFixedHeight(RESULT_SIDE // 2 + 24)
        self.results.setToolTip("Pick one result to give it feedback; none picked: the whole generation")
        layout.addWidget(self.results)
        row = QHBoxLayout()
        self.star_buttons = []
        for stars in range(1, STARS + 1):
            button = QToolButton()
            button.setText(f"{stars}★")
            button.setToolTip(f"Rate {stars} of {STARS}")
            button.clicked.connect(lambda _checked=False, n=stars: self._send(rating=n))
            self.star_buttons.append(button)
            row.addWidget(button)
        row.addStretch(1)
        layout.addLayout(row)
        row = QHBoxLayout()
        self.accept_button = QToolButton()
        self.accept_button.setText("Accept")
        self.accept_button.clicked.connect(lambda: self._send(verdict="accept"))
        self.reject_button = QToolButton()
        self.reject_button.setText("Reject")
        self.reject_button.clicked.connect(lambda: self._send(verdict="reject"))
        row.addWidget(self.accept_button)
        row.addWidget(self.reject_button)
        row.addStretch(1)
        layout.addLayout(row)
        comment_row = QHBoxLayout()
        self.comment_edit = QLineEdit()
        self.comment_edit.setPlaceholderText("Comment on this result…")
        self.comment_edit.returnPressed.connect(self._send_comment)
        self.comment_button = QToolButton()
        self.comment_button.setText("Comment")
        self.comment_button.clicked.connect(self._send_comment)
        comment_row.addWidget(self.comment_edit, 1)
        comment_row.addWidget(self.comment_button)
        layout.addLayout(comment_row)
        self.state_label = QLabel()
        self.state_label.setWordWrap(True)
        layout.addWidget(self.state_label)

    def show_generation(self, details: GenerationDetails) -> None:
        """Show `details`, keeping the picked result when it is the same generation."""
        same = self.details is not None and self.details.event == details.event
        picked = self.picked_result() if same else None
        self.details = details
        self.results.clear()
        for index, image in enumerate(details.results):
            item = QListWidgetItem(QIcon(rgb_to_pixmap(image)), str(index + 1))
            item.setData(Qt.ItemDataRole.UserRole, index)
            self.results.addItem(item)
        if picked is not None and picked < self.results.count():
            self.results.setCurrentRow(picked)
        parts = [f"Generation #{details.event} ({details.status})"]
        if details.verdict:
            parts.append(details.verdict + "ed")
        if details.rating:
            parts.append("★" * details.rating)
        if details.comments:
            parts.append(f"{len(details.comments)} comment(s), last: “{details.comments[-1]}”")
        self.state_label.setText(" · ".join(parts))

    def picked_result(self) -> int | None:
        items = self.results.selectedItems()
        return items[0].data(Qt.ItemDataRole.UserRole) if items else None

    def pick_result(self, index: int | None) -> None:
        if index is None:
            self.results.clearSelection()
        else:
            self.results.setCurrentRow(index)

    def _send(self, *, verdict: str | None = None, rating: int | None = None, comment: str | None = None) -> None:
        if self.details is not None:
            self.feedback.emit(self.details.event, self.picked_result(), verdict, rating, comment)

    def _send_comment(self) -> None:
        text = self.comment_edit.text().strip()
        if text:
            self._send(comment=text)
            self.comment_edit.clear()
