"""The history panel: the timeline of the document's revisions with thumbnails, branch switching, kind filter
and text search, restore, side-by-side comparison, and feedback on logged generations.

Every read runs on the history thread (`HistorySession.submit`, a few milliseconds); the panel refreshes itself
shortly after events are committed. It never writes: restore, branch switching and feedback are signals the
window turns into history commands.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from studio.history import events as ev
from ui.history.session import HistorySession
from ui.common.images import rgb_to_pixmap
from ui.history.compare import RevisionCompareDialog
from ui.history.feedback import FeedbackBox
from studio.app.history_model import (
    KIND_FILTERS, GenerationDetails, Timeline, TimelineRow, count_text, load_comparison, load_generation,
    load_timeline,
)

ICON_SIZE = 56
REFRESH_DELAY_MS = 300  # after a commit: several quick commits refresh once
SEARCH_DELAY_MS = 250  # after typing in the search box


class HistoryPanel(QWidget):
    """Timeline of the current branch, newest first."""

    restore_requested = Signal(int)  # revision
    branch_requested = Signal(str)  # branch name
    feedback_requested = Signal(int, object, object, object, object)  # generation, result, verdict, rating, comment
    loaded = Signal()  # the list shows the store as it was at the last refresh

    def __init__(self, session: HistorySession, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.timeline: Timeline | None = None
        self.compare_dialog: RevisionCompareDialog | None = None
        self._icons: dict[str, QIcon] = {}
        self._loading = False
        self._stale = False
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()  # a short dock scrolls the panel instead of forcing the window taller
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        outer.addWidget(scroll)
        body = QWidget()
        scroll.setWidget(body)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(self._build_filters())
        self.list = QListWidget()
        self.list.setMinimumHeight(2 * ICON_SIZE)  # at 1366 x 768 the buttons below stay in view
        self.list.setIconSize(QSize(ICON_SIZE, ICON_SIZE))
        self.list.setUniformItemSizes(True)
        self.list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.list.itemSelectionChanged.connect(self._selection_changed)
        self.list.itemDoubleClicked.connect(lambda _item: self.restore_selected())
        layout.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        self.restore_button = QPushButton("Restore")
        self.restore_button.setToolTip("Show this revision on the canvas (a new branch; later revisions stay)")
        self.restore_button.clicked.connect(self.restore_selected)
        self.compare_button = QPushButton("Compare")
        self.compare_button.setToolTip("Show the two selected revisions side by side")
        self.compare_button.clicked.connect(self.compare_selected)
        self.count_label = QLabel()
        buttons.addWidget(self.restore_button)
        buttons.addWidget(self.compare_button)
        buttons.addStretch(1)
        buttons.addWidget(self.count_label)
        layout.addLayout(buttons)
        self.feedback_box = FeedbackBox()
        self.feedback_box.feedback.connect(self.feedback_requested)
        self.feedback_box.hide()
        layout.addWidget(self.feedback_box)
        self._refresh_timer = QTimer(self, singleShot=True, interval=REFRESH_DELAY_MS, timeout=self.refresh)
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS, timeout=self.refresh)
        session.committed.connect(lambda _appended: self._refresh_timer.start())
        session.active_changed.connect(lambda _log: self._refresh_timer.start())
        session.head_moved.connect(self._refresh_timer.start)
        self._selection_changed()

    def _build_filters(self) -> QVBoxLayout:
        column = QVBoxLayout()
        branch_row = QHBoxLayout()
        branch_row.addWidget(QLabel("Branch"))
        self.branch_combo = QComboBox()
        self.branch_combo.setToolTip("Switch to another line of revisions")
        self.branch_combo.activated.connect(self._branch_picked)
        branch_row.addWidget(self.branch_combo, 1)
        column.addLayout(branch_row)
        filter_row = QHBoxLayout()
        self.kind_combo = QComboBox()
        for label in KIND_FILTERS:
            self.kind_combo.addItem(label)
        self.kind_combo.currentIndexChanged.connect(lambda _index: self.refresh())
        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("Search prompts and chat…")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.textChanged.connect(lambda _text: self._search_timer.start())
        filter_row.addWidget(self.kind_combo)
        filter_row.addWidget(self.search_edit, 1)
        column.addLayout(filter_row)
        return column

    # Loading -------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the timeline again with the current filters (on the history thread)."""
        if self.session.closed:
            return
        if not self.isVisible():  # read when shown again
            self._stale = True
            return
        if self._loading:
            self._stale = True
            return
        self._loading, self._stale = True, False
        kinds, text = self._filters()
        known = frozenset(self._icons)
        self.session.submit(
            lambda: load_timeline(self.session.store, kinds=kinds, text=text, known_thumbnails=known),
            done=self._show_timeline, failed=self._load_failed,
        )

    def _filters(self) -> tuple[tuple[str, ...] | None, str]:
        return KIND_FILTERS[self.kind_combo.currentText()], self.search_edit.text()

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if self._stale and not self._loading:
            self.refresh()

    def _load_failed(self, error: BaseException) -> None:
        self._loading = False
        self.count_label.setText("History unavailable")
        self.session.report(error)

    def _show_timeline(self, timeline: Timeline) -> None:
        self._loading = False
        if self._stale or (timeline.kinds, timeline.text) != self._filters():  # changed while reading
            self.refresh()
            return
        for hash_, image in timeline.thumbnails.items():
            self._icons[hash_] = QIcon(rgb_to_pixmap(image))
        selected = {row.revision for row in self.selected_rows()}
        self.timeline = timeline
        self.list.blockSignals(True)
        self.list.clear()
        for row in timeline.rows:
            stamp = time.strftime("%H:%M:%S", time.localtime(row.time))
            head = "  (current)" if row.revision == timeline.head else ""
            item = QListWidgetItem(f"{row.summary}\n#{row.revision} · {stamp} · {row.branch}{head}")
            if row.thumbnail in self._icons:
                item.setIcon(self._icons[row.thumbnail])
            item.setData(Qt.ItemDataRole.UserRole, row)
            item.setSizeHint(QSize(0, ICON_SIZE + 6))
            self.list.addItem(item)
            item.setSelected(row.revision in selected)
        self.list.blockSignals(False)
        self.branch_combo.blockSignals(True)
        self.branch_combo.clear()
        self.branch_combo.addItems(timeline.branches)
        self.branch_combo.setCurrentText(timeline.current)
        self.branch_combo.blockSignals(False)
        self.count_label.setText(count_text(len(timeline.rows), timeline.matched))
        self._selection_changed()
        self.loaded.emit()

    # Selection and actions -----------------------------------------------------------------------
    def selected_rows(self) -> list[TimelineRow]:
        """Selected revisions, oldest first."""
        rows = [item.data(Qt.ItemDataRole.UserRole) for item in self.list.selectedItems()]
        return sorted(rows, key=lambda row: row.revision)

    def select_revisions(self, revisions: list[int]) -> None:
        """Select exactly these revisions (scripts and tests)."""
        self.list.clearSelection()
        for index in range(self.list.count()):
            item = self.list.item(index)
            if item.data(Qt.ItemDataRole.UserRole).revision in revisions:
                item.setSelected(True)

    def _selection_changed(self) -> None:
        rows = self.selected_rows()
        head = self.timeline.head if self.timeline else None
        self.restore_button.setEnabled(len(rows) == 1 and rows[0].revision != head)
        self.compare_button.setEnabled(len(rows) == 2)
        if len(rows) == 1 and rows[0].kind == ev.GENERATION:
            self.load_feedback(rows[0].event)
        else:
            self.feedback_box.hide()

    def load_feedback(self, generation: int) -> None:
        """Show the feedback box for a generation (its results are read on the history thread)."""
        self.session.submit(lambda: load_generation(self.session.store, generation), done=self._show_feedback)

    def _show_feedback(self, details: GenerationDetails) -> None:
        rows = self.selected_rows()
        if len(rows) == 1 and rows[0].event == details.event:
            self.feedback_box.show_generation(details)
            self.feedback_box.show()

    def restore_selected(self) -> None:
        rows = self.selected_rows()
        if len(rows) == 1 and self.timeline is not None and rows[0].revision != self.timeline.head:
            self.restore_requested.emit(rows[0].revision)

    def compare_selected(self) -> None:
        rows = self.selected_rows()
        if len(rows) != 2:
            return
        first, second = rows[0].revision, rows[1].revision
        self.session.submit(
            lambda: (load_comparison(self.session.store, first), load_comparison(self.session.store, second)),
            done=lambda pair: self._show_comparison(*pair),
        )

    def _show_comparison(self, left, right) -> None:
        self.compare_dialog = RevisionCompareDialog(left, right, self)
        self.compare_dialog.open()

    def _branch_picked(self, index: int) -> None:
        name = self.branch_combo.itemText(index)
        if self.timeline is not None and name != self.timeline.current:
            self.branch_requested.emit(name)
