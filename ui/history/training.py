"""The History menu's Train from accepted results… command: opens the `TrainDialog` (one per window, kept while a
run goes on) and, when a model was trained, calls `on_trained` so the window reads the model settings again
(the new ControlNet model entry, the LoRA folder's new file). A run still going when the application quits is
stopped first (it keeps a checkpoint)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from PySide6.QtCore import QCoreApplication, QObject

from ui.common.commands import Command
from ui.history.train_dialog import TrainDialog

if TYPE_CHECKING:
    from ui.common.context import AppContext
    from ui.history.recorder import HistoryRecorder
    from ui.history.session import HistorySession


class HistoryTraining(QObject):
    def __init__(self, context: "AppContext", *, history: "HistorySession", recorder: "HistoryRecorder",
                 on_trained: Callable[[], None]) -> None:
        super().__init__(context)
        self.context = context
        self.history = history
        self.recorder = recorder
        self.on_trained = on_trained
        self.dialog: TrainDialog | None = None  # the dialog (reachable by tests)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    def commands(self) -> list[Command]:
        return [Command("train_from_history", "History", "&Train from Accepted Results…", self.open_dialog,
                        tip="Train a style LoRA or a ControlNet on the results you accepted", separator=True)]

    def open_dialog(self) -> TrainDialog:
        if self.dialog is None:
            self.dialog = TrainDialog(history=self.history, recorder=self.recorder, paths=self.context.paths,
                                      parent=self.context.widget)
            self.dialog.trained.connect(self._trained)
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog

    def _trained(self, outcome) -> None:
        self.on_trained()
        self.context.show_status(outcome.message)

    def shutdown(self) -> None:
        if self.dialog is not None:
            self.dialog.shutdown()
