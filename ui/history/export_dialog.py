"""History ▸ Export…: the document's history as a zip archive or as a training set, with a progress bar.

The formats are the command line's (`studio history export`): the whole history as a zip
(`studio.history.export`), or the `controlnet` / `preference` training sets (`studio.history.presets`). The
dialog waits until everything logged so far is in the file, then the export runs on a worker thread of its own
(not behind a generation) and reports its progress; errors are shown in the dialog, and a failed export leaves
no half-written file.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout, QLineEdit, QProgressBar,
    QPushButton, QSpinBox, QVBoxLayout, QWidget,
)

from studio.app.errors import describe_error
from studio.history.presets import DEFAULT_MIN_RATING
from studio.history.results import CONTROL_KINDS
from ui.common.message_bar import MessageBar
from ui.common.workers import JobHandle, JobRunner

if TYPE_CHECKING:
    from ui.history.recorder import HistoryRecorder
    from ui.history.session import HistorySession

#: (label, format) of the choices; "archive" is the zip, the others are `export_preset` formats.
FORMATS = (("Whole history (.zip archive)", "archive"),
           ("ControlNet training set (image, text, control map)", "controlnet"),
           ("Preference pairs (Pick-a-Pic v2 columns)", "preference"))


def run_export(document: Path, out: Path, *, format: str, kind: str | None, min_rating: int | None,
               report) -> str:
    """Worker thread: write the export; returns the sentence saying what was written."""
    def progress(done: int, total: int) -> None:
        report({"done": done, "total": total})

    if format == "archive":
        from studio.history.export import export_history

        summary = export_history(document, out, progress=progress)
        return (f"Exported {summary.events} events and {summary.images} result images to {summary.path.name} "
                f"({summary.bytes_written / 1e6:.1f} MB).")
    from studio.history.presets import export_preset

    summary = export_preset([document], out, format=format, kind=kind, min_rating=min_rating, progress=progress)
    return f"Exported {summary.rows} {format} rows ({summary.images} result images read) to {summary.path}."


class HistoryExportDialog(QDialog):
    """Format, options and target, an Export button and a progress bar. `finished_export(text)` on success."""

    finished_export = Signal(str)

    def __init__(self, *, history: "HistorySession", recorder: "HistoryRecorder", start_folder: Path,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export history")
        self.history = history
        self.recorder = recorder
        self.start_folder = Path(start_folder)
        self.runner = JobRunner(self)
        self.job: JobHandle | None = None
        layout = QVBoxLayout(self)
        self.message_bar = MessageBar()
        layout.addWidget(self.message_bar)
        form = QFormLayout()
        self.format_combo = QComboBox()
        for text, value in FORMATS:
            self.format_combo.addItem(text, value)
        form.addRow("Format", self.format_combo)
        self.kind_combo = QComboBox()
        for kind in CONTROL_KINDS:
            self.kind_combo.addItem(kind.capitalize(), kind)
        self.kind_combo.setToolTip("The control map each training row pairs with its image")
        form.addRow("Control map", self.kind_combo)
        self.rating_spin = QSpinBox()
        self.rating_spin.setRange(1, 5)
        self.rating_spin.setValue(DEFAULT_MIN_RATING)
        self.rating_spin.setSuffix(" stars")
        self.rating_spin.setToolTip("Rated images need this many stars; unrated ones count when accepted")
        form.addRow("At least", self.rating_spin)
        target = QHBoxLayout()
        self.target_edit = QLineEdit()
        browse = QPushButton("Choose…")
        browse.clicked.connect(self.choose_target)
        target.addWidget(self.target_edit, 1)
        target.addWidget(browse)
        form.addRow("Save to", target)
        layout.addLayout(form)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        layout.addWidget(self.progress_bar)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = buttons.addButton("Export", QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button.clicked.connect(self.start)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.format_combo.currentIndexChanged.connect(self._format_changed)
        self._format_changed()

    def format(self) -> str:
        return self.format_combo.currentData()

    def _format_changed(self) -> None:
        controlnet = self.format() == "controlnet"
        self.kind_combo.setEnabled(controlnet)
        self.rating_spin.setEnabled(controlnet)
        name = self.history.current.path.stem if self.history.current is not None else "history"
        suffix = {"archive": ".zip", "controlnet": f"-controlnet-{self.kind_combo.currentData()}",
                  "preference": "-preference"}[self.format()]
        self.target_edit.setText(str(self.start_folder / f"{name}{suffix}"))

    def choose_target(self) -> None:
        if self.format() == "archive":
            name, _ = QFileDialog.getSaveFileName(self, "Export history", self.target_edit.text(),
                                                  "Zip archives (*.zip)")
        else:
            name = QFileDialog.getExistingDirectory(self, "Folder for the training set", str(self.start_folder))
            name = str(Path(name) / Path(self.target_edit.text()).name) if name else ""
        if name:
            self.target_edit.setText(name)

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.running

    def start(self) -> bool:
        """Export with the chosen options; False (with a message) when it cannot start."""
        if self.running:
            return False
        current = self.history.current
        target = self.target_edit.text().strip()
        if current is None:
            self.message_bar.show_error("There is no history to export yet.")
            return False
        if not target:
            self.message_bar.show_error("Choose where to save the export.")
            return False
        out = Path(target)
        if self.format() == "archive" and out.suffix != ".zip":
            out = out.with_suffix(".zip")
        options: dict[str, Any] = {"format": self.format(), "kind": None, "min_rating": None}
        if options["format"] == "controlnet":
            options.update(kind=self.kind_combo.currentData(), min_rating=self.rating_spin.value())
        self.recorder.flush()
        written = self.history.flush()  # everything logged so far is in the file before it is read
        document = current.path
        self.message_bar.dismiss()
        self.export_button.setEnabled(False)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("Preparing…")

        def job(report, _cancel) -> str:
            written.result(timeout=120)
            return run_export(document, out, report=report, **options)

        self.job = self.runner.submit(job, on_progress=self._progress, on_finished=self._done,
                                      on_failed=self._failed)
        return True

    def _progress(self, message: dict[str, int]) -> None:
        total = max(1, message["total"])
        self.progress_bar.setRange(0, total)
        self.progress_bar.setValue(min(message["done"], total))
        self.progress_bar.setFormat("%p %")

    def _done(self, text: str) -> None:
        self.export_button.setEnabled(True)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(1)
        self.progress_bar.setFormat("Done")
        self.message_bar.show_info(text)
        self.finished_export.emit(text)

    def _failed(self, error: BaseException) -> None:
        self.export_button.setEnabled(True)
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("Not exported")
        self.message_bar.show_error(describe_error(error, task="Export history"))

    def done(self, result: int) -> None:
        self.runner.wait(60_000)  # an export in flight finishes (and cleans up) before the dialog goes
        super().done(result)
