"""The History menu's Export… command: opens `HistoryExportDialog` on the open document's history."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from ui.common.commands import Command
from ui.history.export_dialog import HistoryExportDialog

if TYPE_CHECKING:
    from ui.common.context import AppContext
    from ui.history.recorder import HistoryRecorder
    from ui.history.session import HistorySession


class HistoryExports(QObject):
    def __init__(self, context: "AppContext", *, history: "HistorySession", recorder: "HistoryRecorder") -> None:
        super().__init__(context)
        self.context = context
        self.history = history
        self.recorder = recorder
        self.dialog: HistoryExportDialog | None = None  # the open dialog (reachable by tests)

    def commands(self) -> list[Command]:
        return [Command("export_history", "History", "&Export…", self.open_dialog,
                        tip="Export the history as a zip archive or as a ControlNet / preference training set")]

    def open_dialog(self) -> HistoryExportDialog:
        if self.dialog is None:
            self.dialog = HistoryExportDialog(history=self.history, recorder=self.recorder,
                                              start_folder=self.context.app_settings.last_folder(),
                                              parent=self.context.widget)
            self.dialog.finished_export.connect(lambda text: self.context.show_status(text))
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog
