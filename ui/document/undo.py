"""Undo glue: Undo/Redo actions driven by the document core's `UndoHistory`.

The core's history is the only undo stack (it caps its memory itself). The window's actions call
`history.undo()`/`history.redo()` and follow its push/undo/redo events to update their text and state.
Changes outside the document that must undo with it (the chat panel's "Apply" into the generation settings)
are pushed onto the same history as `studio.app.generation_state.SettingsStep`s.
"""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence

from studio.document.history import HistoryEvent, UndoHistory



class UndoActions(QObject):
    """The Undo and Redo actions of the window, bound to whichever document history is current."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.undo_action = QAction("Undo", self)
        self.undo_action.setShortcut(QKeySequence.StandardKey.Undo)
        self.undo_action.triggered.connect(self.undo)
        self.redo_action = QAction("Redo", self)
        self.redo_action.setShortcuts([QKeySequence.StandardKey.Redo, QKeySequence("Ctrl+Shift+Z")])
        self.redo_action.triggered.connect(self.redo)
        self.history: UndoHistory | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._refresh()

    def bind(self, history: UndoHistory | None) -> None:
        """Follow `history` from now on (called when a document is created or opened)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self.history = history
        if history is not None:
            self._unsubscribe = history.subscribe(self._on_history_event)
        self._refresh()

    def undo(self) -> None:
        if self.history is not None:
            self.history.undo()

    def redo(self) -> None:
        if self.history is not None:
            self.history.redo()

    def _on_history_event(self, _event: HistoryEvent) -> None:
        self._refresh()

    def _refresh(self) -> None:
        history = self.history
        can_undo = history is not None and history.can_undo
        can_redo = history is not None and history.can_redo
        self.undo_action.setEnabled(can_undo)
        self.redo_action.setEnabled(can_redo)
        self.undo_action.setText(f"Undo {history.undo_label}" if can_undo and history.undo_label else "Undo")
        self.redo_action.setText(f"Redo {history.redo_label}" if can_redo and history.redo_label else "Redo")
