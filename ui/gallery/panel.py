"""The gallery: generated images with their parameters; rate, compare, reuse, save and re-run them."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
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


def _thumbnail(entry: GalleryEntry) -> QIcon:
    pixmap = rgb_to_pixmap(entry.image).scaled(
        THUMB_SIZE, THUMB_SIZE, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
    )
    if entry.rating:
        painter = QPainter(pixmap)
        painter.setPen(QPen(RATING_COLORS[entry.rating], 6))
        painter.drawRect(pixmap.rect().adjusted(3, 3, -3, -3))
        painter.end()
    return QIcon(pixmap)


class GalleryPanel(QWidget):
    """A thumbnail list of a `Gallery` model plus the selected entry's parameters and the actions on it.

    The list follows the model's events; the buttons change the model (ratings) or ask for an action (signals).
    """

    use_as_reference = Signal(object)  # GalleryEntry
    save_requested = Signal(object)  # GalleryEntry
    rerun_requested = Signal(object, bool)  # GalleryEntry, new_seed
    compare_requested = Signal(object, object)  # GalleryEntry, GalleryEntry
    rating_changed = Signal(object)  # GalleryEntry

    def __init__(self, gallery: Gallery | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.gallery = gallery if gallery is not None else Gallery()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
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
        splitter.addWidget(self.list)
        splitter.addWidget(self.details)
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

    def _added(self, entries: list[GalleryEntry]) -> None:
        for entry in entries:
            item = QListWidgetItem(_thumbnail(entry), f"#{entry.entry_id}")
            item.setData(Qt.ItemDataRole.UserRole, entry.entry_id)
            item.setToolTip(entry.describe())
            self.list.insertItem(0, item)
        if entries:
            self.list.clearSelection()
            self.list.setCurrentRow(len(entries) - 1)

    def _reset(self, entries: list[GalleryEntry]) -> None:
        self.list.clear()
        self._added(entries)
        self.list.clearSelection()
        self._selection_changed()

    def _entry_changed(self, entry: GalleryEntry) -> None:
        for row in range(self.list.count()):
            item = self.list.item(row)
            if item.data(Qt.ItemDataRole.UserRole) == entry.entry_id:
                item.setIcon(_thumbnail(entry))
                item.setToolTip(entry.describe())
        self._selection_changed()

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
