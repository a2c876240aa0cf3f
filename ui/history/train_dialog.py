"""History ▸ Train from accepted results…: a style LoRA or a ControlNet trained on what the designer accepted.

A thin view over `studio.app.training`: the choices (kind of model, control kind, name, steps, rank, learning
rate, size, batch), a progress bar fed from the training process's JSON lines, Cancel (the run stops and keeps
a checkpoint) and the outcome. The run goes on a worker of the dialog's own (`JobRunner`), which starts
`studio train` as a child process and waits on it, so neither the window nor generations wait for it. Closing
the dialog hides it; the run goes on and the dialog shows it again from the History menu.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QDoubleSpinBox, QFormLayout, QLabel, QLineEdit, QProgressBar,
    QSpinBox, QVBoxLayout, QWidget,
)

from studio.app.errors import describe_error
from studio.app.paths import AppPaths
from studio.app.training import TrainOutcome, TrainRequest, default_request, plan, run_plan
from studio.engine.settings import ModelSettings
from studio.train.run import CONTROL_KINDS
from ui.common.message_bar import MessageBar
from ui.common.workers import JobHandle, JobRunner

if TYPE_CHECKING:
    from ui.history.recorder import HistoryRecorder
    from ui.history.session import HistorySession

TASKS = (("Style LoRA (from the accepted images and prompts)", "lora"),
         ("ControlNet (from the accepted images and their control maps)", "controlnet"))

HIDDEN = ("validate_every", "validation_steps", "checkpoint_every", "device")  # set by set_request only


class TrainDialog(QDialog):
    """`trained(outcome)` when a run has written its model (a `TrainOutcome`)."""

    trained = Signal(object)

    def __init__(self, *, history: "HistorySession", recorder: "HistoryRecorder", paths: AppPaths,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Train from accepted results")
        self.history, self.recorder, self.paths = history, recorder, paths
        self.runner = JobRunner(self)
        self.job: JobHandle | None = None
        self._hidden: dict[str, Any] = {}  # choices the form does not show (see set_request)
        layout = QVBoxLayout(self)
        self.message_bar = MessageBar()
        layout.addWidget(self.message_bar)
        form = QFormLayout()
        self.task_combo = QComboBox()
        for text, value in TASKS:
            self.task_combo.addItem(text, value)
        form.addRow("Train", self.task_combo)
        self.kind_combo = QComboBox()
        for kind in CONTROL_KINDS:
            self.kind_combo.addItem(kind.capitalize(), kind)
        form.addRow("Control map", self.kind_combo)
        self.name_edit = QLineEdit()
        form.addRow("Name", self.name_edit)
        self.steps_spin = _spin(1, 1_000_000, "Optimizer steps; 500-2000 for a style")
        form.addRow("Steps", self.steps_spin)
        self.rank_spin = _spin(1, 256, "LoRA rank: larger learns more detail and makes a bigger file")
        form.addRow("Rank", self.rank_spin)
        self.lr_spin = QDoubleSpinBox()
        self.lr_spin.setDecimals(6)
        self.lr_spin.setRange(0.000001, 1.0)
        self.lr_spin.setSingleStep(0.00005)
        form.addRow("Learning rate", self.lr_spin)
        self.resolution_spin = _spin(64, 2048, "Training size in pixels (a multiple of 8)")
        self.resolution_spin.setSingleStep(64)
        form.addRow("Size", self.resolution_spin)
        self.batch_spin = _spin(1, 64, "Images per step")
        form.addRow("Batch", self.batch_spin)
        self.text_encoder_check = QCheckBox("Also adapt the text encoder (SD 1.x/2.x)")
        form.addRow("", self.text_encoder_check)
        layout.addLayout(form)
        self.base_label = QLabel()
        self.base_label.setWordWrap(True)
        layout.addWidget(self.base_label)
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("Not started")
        layout.addWidget(self.progress_bar)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.train_button = buttons.addButton("Train", QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_button = buttons.addButton("Stop", QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_button.setEnabled(False)
        self.train_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        buttons.rejected.connect(self.hide)
        layout.addWidget(buttons)
        self.task_combo.currentIndexChanged.connect(self._defaults)
        self.kind_combo.currentIndexChanged.connect(self._defaults)
        self._defaults()

    def _document(self) -> Path | None:
        current = self.history.current
        return current.path if current is not None else None

    def _defaults(self) -> None:
        task = self.task_combo.currentData()
        request = default_request(task, document=self._document(), kind=self.kind_combo.currentData())
        self.name_edit.setText(request.name)
        self.steps_spin.setValue(request.steps)
        self.rank_spin.setValue(request.rank)
        self.lr_spin.setValue(request.lr)
        self.resolution_spin.setValue(request.resolution)
        self.batch_spin.setValue(request.batch)
        lora = task == "lora"
        self.kind_combo.setEnabled(not lora)
        self.rank_spin.setEnabled(lora)
        self.text_encoder_check.setEnabled(lora)
        try:
            models = ModelSettings.load(self.paths.model_settings)
            base = models.active_entry().base if models.models else None
        except Exception as exc:  # noqa: BLE001 - shown, never raised out of a combo box change
            base = None
            self.base_label.setText(describe_error(exc, task="Reading the model settings"))
            return
        self.base_label.setText(f"Base model: {base}" if base else
                                "No model is set up yet: add one in Generate ▸ Models… first.")

    def request(self) -> TrainRequest:
        task = self.task_combo.currentData()
        return TrainRequest(task=task, kind=self.kind_combo.currentData(), name=self.name_edit.text().strip(),
                            steps=self.steps_spin.value(), rank=self.rank_spin.value(), lr=self.lr_spin.value(),
                            resolution=self.resolution_spin.value(), batch=self.batch_spin.value(),
                            text_encoder=task == "lora" and self.text_encoder_check.isChecked(), **self._hidden)

    def set_request(self, request: TrainRequest) -> None:
        """Fill the form (for presets and tests); fields the form lacks keep the request's defaults."""
        self.task_combo.setCurrentIndex(self.task_combo.findData(request.task))
        self.kind_combo.setCurrentIndex(self.kind_combo.findData(request.kind))
        self.name_edit.setText(request.name)
        self.steps_spin.setValue(request.steps)
        self.rank_spin.setValue(request.rank)
        self.lr_spin.setValue(request.lr)
        self.resolution_spin.setValue(request.resolution)
        self.batch_spin.setValue(request.batch)
        self.text_encoder_check.setChecked(request.text_encoder)
        self._hidden = {name: getattr(request, name) for name in HIDDEN}

    @property
    def running(self) -> bool:
        return self.job is not None and self.job.running

    def start(self) -> bool:
        """Start a run with the form's choices; False (with a message) when it cannot start."""
        if self.running:
            return False
        document = self._document()
        if document is None:
            self.message_bar.show_error("There is no history to learn from yet.")
            return False
        try:
            the_plan = plan(self.request(), document=document, models=ModelSettings.load(self.paths.model_settings),
                            paths=self.paths)
        except Exception as exc:  # noqa: BLE001 - every reason not to start is shown in the dialog
            self.message_bar.show_error(describe_error(exc, task="Training"))
            return False
        self.recorder.flush()
        written = self.history.flush()  # the feedback given so far is in the file before it is exported
        settings_file = self.paths.model_settings
        self.message_bar.dismiss()
        self.train_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.progress_bar.setRange(0, 0)
        self.progress_bar.setFormat("Preparing the training set…")

        def job(report, cancel) -> TrainOutcome:
            written.result(timeout=120)
            return run_plan(the_plan, settings_file=settings_file, report=report, cancel=cancel)

        self.job = self.runner.submit(job, on_progress=self._progress, on_finished=self._done,
                                      on_failed=self._failed)
        return True

    def cancel(self) -> None:
        if self.running:
            self.job.cancel()
            self.cancel_button.setEnabled(False)
            self.progress_bar.setFormat("Stopping (saving a checkpoint)…")

    def _progress(self, message: dict[str, Any]) -> None:
        if message.get("phase") == "train":
            self.progress_bar.setFormat(f"Loading the model ({message['rows']} rows to learn from)…")
        if "step" in message:
            self.progress_bar.setRange(0, max(1, message["total"]))
            self.progress_bar.setValue(min(message["step"], message["total"]))
            self.progress_bar.setFormat(f"Step %v of %m, loss {message['loss']:.4f}")

    def _finish(self) -> None:
        self.train_button.setEnabled(True)
        self.cancel_button.setEnabled(False)

    def _done(self, outcome: TrainOutcome) -> None:
        self._finish()
        if outcome.status == "ok":
            self.progress_bar.setRange(0, 1)
            self.progress_bar.setValue(1)
            self.progress_bar.setFormat("Done")
            self.message_bar.show_info(outcome.message)
            self.trained.emit(outcome)
        else:
            self.progress_bar.setFormat("Stopped")
            self.message_bar.show_info(outcome.message)

    def _failed(self, error: BaseException) -> None:
        self._finish()
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat("Not trained")
        self.message_bar.show_error(describe_error(error, task="Training"))

    def shutdown(self, msecs: int = 90_000) -> None:
        """Stop a run (it keeps a checkpoint) and wait for it: the window is closing."""
        self.cancel()
        self.runner.wait(msecs)


def _spin(low: int, high: int, tip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setToolTip(tip)
    return spin
