"""The gallery: generated images with their parameters; rate, compare, reuse, save and re-run them.

Shown newest first, or "by scorer" (most likely kept first) when a scorer of the designer's taste is chosen; then
each thumbnail carries the scorer's keep probability as a badge. The panel only shows what it is given
(`set_scorer_state`, `show_badges`, `show_order`) and says when the designer picks another order
(`order_changed`); `ui.gallery.scorer.ScorerController` connects it to the `ScorerModel`.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPen
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.app.gallery import Gallery, GalleryEntry
from ui.common.images import rgb_to_pixmap

THUMB_SIZE = 128
RATING_COLORS = {"starred": QColor("#f2c94c"), "rejected": QColor("#eb5757")}
ORDERS = {"newest": "Newest first", "scorer": "By scorer"}
BADGE_COLORS = (QColor(40, 40, 40, 210), QColor(33, 120, 70, 225))  # below / at or above even odds of a keep


def _thumbnail(entry: GalleryEntry, badge: tuple[str, bool] | None = None) -> QIcon:
    pixmap = rgb_to_pixmap(entry.image).scaled(
        THUMB_SIZE, THUMB_SIZE, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )
    if entry.rating or badge:
        painter = QPainter(pixmap)
        if entry.rating:
            painter.setPen(QPen(RATING_COLORS[entry.rating], 6))
            painter.drawRect(pixmap.rect().adjusted(3, 3, -3, -3))
        if badge:
            _paint_badge(painter, pixmap.rect(), *badge)
        painter.end()
    return QIcon(pixmap)


def _paint_badge(painter: QPainter, area: QRect, text: str, likely_kept: bool) -> None:
    """A rounded label in the top-left corner ('keep 83%'), green when a keep is likely."""
    font = QFont(painter.font())
    font.setPixelSize(13)
    font.setBold(True)
    painter.setFont(font)
    metrics = painter.fontMetrics()
    box = QRect(0, 0, metrics.horizontalAdvance(text) + 10, metrics.height() + 4)
    box.moveTopLeft(area.topLeft())
    box.translate(6, 6)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(BADGE_COLORS[likely_kept])
    painter.drawRoundedRect(box, 6, 6)
    painter.setPen(QColor("white"))
    painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


class GalleryPanel(QWidget):
    """A thumbnail list of a `Gallery` model plus the selected entry's parameters and the actions on it.

    The list follows the model's events; the buttons change the model (ratings) or ask for an action (signals).
    """

    use_as_reference = Signal(object)  # GalleryEntry
    save_requested = Signal(object)  # GalleryEntry
    rerun_requested = Signal(object, bool)  # GalleryEntry, new_seed
    compare_requested = Signal(object, object)  # GalleryEntry, GalleryEntry
    rating_changed = Signal(object)  # GalleryEntry
    order_changed = Signal(str)  # a key of ORDERS: the designer picked another order

    def __init__(self, gallery: Gallery | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.gallery = gallery if gallery is not None else Gallery()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.badges: dict[int, tuple[str, bool]] = {}  # entry id -> (text, likely kept)
        self.order: list[int] | None = None  # entry ids most likely kept first ("by scorer"); None: newest first
        splitter = QSplitter(Qt.Orientation.Horizontal)
        self.list = QListWidget()
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setIconSize(QSize(THUMB_SIZE, THUMB_SIZE))
        self.list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.list.setMovement(QListWidget.Movement.Static)
        self.list.setSpacing(4)
        self.list.setSelectionMode(QListWidget.SelectionMode.ExtendedSelection)
        self.list.itemSelectionChanged.connect(self._selection_changed)
        self.list.itemDoubleClicked.connect(lambda _item: self._emit_for_current(self.use_as_reference))
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setPlaceholderText("Select a result to see its parameters.")
        self.details.setMinimumHeight(40)  # with the order row above it, no taller than the list's minimum
        side = QWidget()  # the order above the parameters: the button row keeps the panel's narrow minimum
        column = QVBoxLayout(side)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(self._build_order_row())
        column.addWidget(self.details, 1)
        splitter.addWidget(self.list)
        splitter.addWidget(side)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout.addWidget(splitter, 1)
        layout.addLayout(self._build_buttons())
        self._selection_changed()
        self.gallery.added.connect(self._added)
        self.gallery.changed.connect(self._entry_changed)
        self.gallery.rated.connect(self.rating_changed.emit)
        self.gallery.reset.connect(self._reset)
        self._added(list(self.gallery.entries))

    def _build_order_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("Order"))
        self.order_combo = QComboBox()
        for key, text in ORDERS.items():
            self.order_combo.addItem(text, key)
        self.order_combo.currentIndexChanged.connect(self._order_picked)
        row.addWidget(self.order_combo)
        self.scorer_label = QLabel()  # why "By scorer" is off (the whole sentence in its tooltip)
        self.scorer_label.setStyleSheet("color: palette(mid);")
        row.addWidget(self.scorer_label)
        row.addStretch(1)
        self.set_scorer_state(False, "No scorer is chosen.")
        return row

    def _build_buttons(self) -> QHBoxLayout:
        row = QHBoxLayout()
        self.buttons: dict[str, QToolButton] = {}
        specs = (
            ("star", "★ Star", "Mark as a good result", lambda: self._rate("starred")),
            ("reject", "✕ Reject", "Mark as a bad result", lambda: self._rate("rejected")),
            ("compare", "Compare", "Compare the two selected results side by side", self._compare),
            ("reference", "Use as reference", "Put this image in the reference layer",
             lambda: self._emit_for_current(self.use_as_reference)),
            ("save", "Save PNG…", "Save with its generation parameters",
             lambda: self._emit_for_current(self.save_requested)),
            ("rerun", "Re-run", "Generate again with the same parameters and seed",
             lambda: self._rerun(new_seed=False)),
            ("reseed", "New seed", "Generate again with the same parameters and a new seed",
             lambda: self._rerun(new_seed=True)),
        )
        for key, text, tip, slot in specs:
            button = QToolButton()
            button.setText(text)
            button.setToolTip(tip)
            button.clicked.connect(slot)
            self.buttons[key] = button
            row.addWidget(button)
        row.addStretch(1)
        return row

    # Entries -------------------------------------------------------------------------------------
    @property
    def entries(self) -> list[GalleryEntry]:
        return self.gallery.entries

    def add_entries(self, entries: list[GalleryEntry]) -> None:
        """Append results to the model (shown newest first) and select the first of them."""
        self.gallery.add(entries)

    def _item(self, entry: GalleryEntry) -> QListWidgetItem:
        item = QListWidgetItem()
        item.setData(Qt.ItemDataRole.UserRole, entry.entry_id)
        self._paint(item, entry)
        return item

    def _paint(self, item: QListWidgetItem, entry: GalleryEntry) -> None:
        badge = self.badges.get(entry.entry_id)
        item.setIcon(_thumbnail(entry, badge))
        item.setText(f"#{entry.entry_id}" + (f" · {badge[0]}" if badge else ""))
        item.setToolTip(entry.describe() + (f"\nScorer: {badge[0]}" if badge else ""))

    def _added(self, entries: list[GalleryEntry]) -> None:
        for entry in entries:  # newest first; by scorer, results not predicted yet go last until they are
            self.list.insertItem(0 if self.order is None else self.list.count(), self._item(entry))
        if entries:
            self.list.clearSelection()
            self.list.setCurrentRow(len(entries) - 1 if self.order is None else self.list.count() - 1)

    def _reset(self, entries: list[GalleryEntry]) -> None:
        self.badges = {}
        if self.order is not None:
            self.order = []
        self.list.clear()
        self._added(entries)
        self.list.clearSelection()
        self._selection_changed()

    def _entry_changed(self, entry: GalleryEntry) -> None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == entry.entry_id:
                self._paint(item, entry)
        self._selection_changed()

    # Scorer --------------------------------------------------------------------------------------
    def set_scorer_state(self, available: bool, message: str) -> None:
        """Offer "By scorer" only with a scorer; otherwise the item is disabled and says why (and the order goes
        back to newest first, badges removed)."""
        item = self.order_combo.model().item(self.order_combo.findData("scorer"))  # a QStandardItemModel
        item.setEnabled(available)
        item.setToolTip(message)
        self.order_combo.setToolTip(message)
        self.scorer_label.setText("" if available else "Scorer off")
        self.scorer_label.setToolTip(message)
        if not available:
            self.order_combo.setCurrentIndex(self.order_combo.findData("newest"))
            if self.badges or self.order is not None:
                self.show_badges({}, replace=True)
                self.show_order(None)

    def _order_picked(self, index: int) -> None:
        item = self.order_combo.model().item(index)
        if item is not None and not item.isEnabled():  # set by a script while it is off: back to newest first
            self.order_combo.setCurrentIndex(self.order_combo.findData("newest"))
            return
        self.order_changed.emit(self.order_combo.itemData(index))

    def show_badges(self, badges: dict[int, tuple[str, bool]], *, replace: bool = False) -> None:
        """Put (text, likely kept) badges on these entries' thumbnails (`replace`: remove all others)."""
        self.badges = dict(badges) if replace else {**self.badges, **badges}
        for row in range(self.list.count()):
            item = self.list.item(row)
            entry = self.gallery.find(item.data(Qt.ItemDataRole.UserRole))
            if entry is not None and (replace or entry.entry_id in badges):
                self._paint(item, entry)

    def show_order(self, entry_ids: list[int] | None) -> None:
        """Show the entries in this order (None: newest first); the selection stays."""
        self.order = None if entry_ids is None else list(entry_ids)
        position = {entry_id: i for i, entry_id in enumerate(self.order or [])}
        newest_first = list(reversed(self.entries))
        shown = newest_first if self.order is None else sorted(
            newest_first, key=lambda e: position.get(e.entry_id, len(position)))
        selected = {entry.entry_id for entry in self.selected_entries()}
        self.list.blockSignals(True)
        self.list.clear()
        for entry in shown:
            item = self._item(entry)
            self.list.addItem(item)
            item.setSelected(entry.entry_id in selected)
        self.list.blockSignals(False)
        self._selection_changed()

    def shown_entries(self) -> list[GalleryEntry]:
        """The entries in the order the list shows them."""
        return [e for e in (self.gallery.find(self.list.item(row).data(Qt.ItemDataRole.UserRole))
                            for row in range(self.list.count())) if e is not None]

    def selected_entries(self) -> list[GalleryEntry]:
        ids = {item.data(Qt.ItemDataRole.UserRole) for item in self.list.selectedItems()}
        return [entry for entry in self.entries if entry.entry_id in ids]

    def select(self, entries: list[GalleryEntry]) -> None:
        """Select exactly `entries` (used by tests and scripts)."""
        ids = {entry.entry_id for entry in entries}
        self.list.clearSelection()
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) in ids:
                item.setSelected(True)

    def set_rating(self, entry: GalleryEntry, rating: str | None) -> None:
        """Star, reject or clear (None) an entry's rating; the same rating twice clears it."""
        self.gallery.set_rating(entry, rating)

    # Slots ---------------------------------------------------------------------------------------
    def _selection_changed(self) -> None:
        selected = self.selected_entries()
        single = len(selected) == 1
        for key in ("star", "reject", "reference", "save", "rerun", "reseed"):
            self.buttons[key].setEnabled(single)
        self.buttons["compare"].setEnabled(len(selected) == 2)
        if single:
            entry = selected[0]
            rating = f"\nRating: {entry.rating}" if entry.rating else ""
            self.details.setPlainText(entry.describe() + rating)
        else:
            self.details.setPlainText(f"{len(selected)} results selected." if selected else "")

    def _emit_for_current(self, signal: Signal) -> None:
        selected = self.selected_entries()
        if len(selected) == 1:
            signal.emit(selected[0])

    def _rate(self, rating: str) -> None:
        selected = self.selected_entries()
        if len(selected) == 1:
            self.set_rating(selected[0], rating)

    def _compare(self) -> None:
        selected = self.selected_entries()
        if len(selected) == 2:
            self.compare_requested.emit(selected[0], selected[1])

    def _rerun(self, *, new_seed: bool) -> None:
        selected = self.selected_entries()
        if len(selected) == 1:
            self.rerun_requested.emit(selected[0], new_seed)
