"""The generation panel: model, prompts, LoRAs, size, sampling, hires fix, inpaint, per-layer controls,
Generate/Cancel and progress.

Its state is a plain `GenerationSettings`; `settings()` reads it, `set_settings()` writes it and
`apply_fields()` changes prompt/negative/size as one undoable step (used by the chat panel's "Apply").
A file dropped on the panel is passed on as `file_dropped(path)` (settings read from a PNG).
"""

from __future__ import annotations

import numpy as np
from pathlib import Path

from PySide6.QtCore import QEvent, QObject, QRegularExpression, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QRegularExpressionValidator
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.app.generation_settings import GenerationSettings
from studio.app.generation_state import GenerationState, SettingsStep
from studio.document.history import UndoHistory
from studio.engine.request import MAX_BATCH, MAX_GUIDANCE, MAX_SIZE, MAX_STEPS, MIN_SIZE, SCHEDULERS
from ui.common.images import rgb_to_pixmap
from ui.common.message_bar import MessageBar
from ui.common.section import Section
from ui.generate.control_table import ControlTable
from ui.generate.live_panel import LiveControls
from ui.generate.lora_list import LoraList
from ui.generate.pass_fields import HiresFields, InpaintFields

SCHEDULER_LABELS = {
    "unipc": "UniPC",
    "dpmpp_2m_karras": "DPM++ 2M Karras",
    "euler_a": "Euler Ancestral",
    "ddim": "DDIM",
    "lcm": "LCM",
}
PREVIEW_SIZE = 192


def _form(parent: QWidget) -> QFormLayout:
    """A form whose labels move above their fields when the dock is narrow."""
    form = QFormLayout(parent)
    form.setContentsMargins(0, 0, 0, 0)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    return form


def _dropped_file(event: QDropEvent) -> Path | None:
    """The one local file a drag carries, or None."""
    urls = event.mimeData().urls() if event.mimeData() is not None else []
    return Path(urls[0].toLocalFile()) if len(urls) == 1 and urls[0].isLocalFile() else None


def _text_box(placeholder: str, lines: int) -> QPlainTextEdit:
    box = QPlainTextEdit()
    box.setPlaceholderText(placeholder)
    box.setFixedHeight(box.fontMetrics().lineSpacing() * lines + 12)
    return box


class GeneratePanel(QWidget):
    """Widgets for one generation request; emits `generate_requested` and `cancel_requested`."""

    generate_requested = Signal()
    cancel_requested = Signal()
    models_requested = Signal()
    settings_changed = Signal()  # any field changed (typing, spin boxes, controls, set_settings)
    file_dropped = Signal(object)  # Path: a local file dropped on the panel

    def __init__(self, state: GenerationState | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.state = state if state is not None else GenerationState()
        self._applying = False  # widgets are being set from the state: their change signals are not edits
        self.undo_history: UndoHistory | None = None  # the current document's history, set by the window
        self._last_seed: int | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(4, 4, 4, 4)
        # Scrolls up and down only: the sections reflow to the dock's width, and fold away when short of room.
        self.scroll_area = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        scroll.setWidget(body)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._build_model_row())
        self.control_table = ControlTable()
        self.lora_list = LoraList()
        self.hires_fields = HiresFields()
        self.inpaint_fields = InpaintFields()
        self.sections = {
            "prompt": Section("Prompt", self._build_prompt_group()),
            "loras": Section("LoRA", self.lora_list, open=False),
            "sampling": Section("Sampling", self._build_sampling_group()),
            "advanced": Section("Advanced", self._build_advanced_group(), open=False),
            "hires": Section("Hires fix", self.hires_fields, open=False),
            "inpaint": Section("Inpaint", self.inpaint_fields, open=False),
            "controls": Section("Control layers", self.control_table),
        }
        for section in self.sections.values():
            layout.addWidget(section)
        layout.addStretch(1)
        outer.addWidget(scroll, 1)
        outer.addLayout(self._build_run_area())
        self._show(self.state.value)
        self.state.set(self._read_widgets())  # what the widgets can show (e.g. no model yet)
        self.set_running(False)
        self._connect_changes()
        self.state.changed.connect(self._state_changed)
        self.lora_list.refused.connect(self.message_bar.show_error)
        self._show_section_titles(self.state.value)
        self.setAcceptDrops(True)
        for box in (self.prompt_edit, self.negative_edit):
            box.viewport().installEventFilter(self)

    # Building ------------------------------------------------------------------------------------
    def _build_model_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(QLabel("Model"))
        self.model_combo = QComboBox()
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setMinimumContentsLength(8)
        self.model_combo.setPlaceholderText("No model configured")
        row.addWidget(self.model_combo, 1)
        self.models_button = QToolButton()
        self.models_button.setText("Models…")
        self.models_button.setToolTip("Where to find models, and the demo mode")
        self.models_button.clicked.connect(self.models_requested)
        row.addWidget(self.models_button)
        return row

    def _build_prompt_group(self) -> QWidget:
        group = QWidget()
        layout = QVBoxLayout(group)
        layout.setContentsMargins(0, 0, 0, 0)
        self.prompt_edit = _text_box("Describe the picture…", 4)
        self.negative_edit = _text_box("Negative prompt: what to avoid", 2)
        layout.addWidget(self.prompt_edit)
        layout.addWidget(self.negative_edit)
        return group

    def _build_sampling_group(self) -> QWidget:
        group = QWidget()
        form = _form(group)
        self.width_spin, self.height_spin = QSpinBox(), QSpinBox()
        for spin in (self.width_spin, self.height_spin):
            spin.setRange(MIN_SIZE, MAX_SIZE)
            spin.setSingleStep(64)
            spin.setSuffix(" px")
        size_row = QHBoxLayout()
        size_row.addWidget(self.width_spin, 1)
        size_row.addWidget(QLabel("×"))
        size_row.addWidget(self.height_spin, 1)
        form.addRow("Size", size_row)
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(1, MAX_STEPS)
        form.addRow("Steps", self.steps_spin)
        self.batch_spin = QSpinBox()
        self.batch_spin.setRange(1, MAX_BATCH)
        form.addRow("Batch size", self.batch_spin)
        self.seed_edit = QLineEdit()
        self.seed_edit.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{0,20}")))
        self.seed_edit.setPlaceholderText("random")
        self.random_seed_check = QCheckBox("Random")
        self.random_seed_check.toggled.connect(lambda on: self.seed_edit.setEnabled(not on))
        seed_row = QHBoxLayout()
        seed_row.addWidget(self.seed_edit, 1)
        seed_row.addWidget(self.random_seed_check)
        form.addRow("Seed", seed_row)
        self.seed_used_label = QLabel("Seed used: –")
        self.seed_used_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reuse_seed_button = QToolButton()
        self.reuse_seed_button.setText("Keep")
        self.reuse_seed_button.setToolTip("Fix the seed to the one last used")
        self.reuse_seed_button.setEnabled(False)
        self.reuse_seed_button.clicked.connect(self._keep_last_seed)
        used_row = QHBoxLayout()
        used_row.addWidget(self.seed_used_label, 1)
        used_row.addWidget(self.reuse_seed_button)
        form.addRow("", used_row)
        return group

    def _build_advanced_group(self) -> QWidget:
        """Guidance and scheduler: rarely changed, folded away at first."""
        group = QWidget()
        form = _form(group)
        self.guidance_spin = QDoubleSpinBox()
        self.guidance_spin.setRange(0.0, MAX_GUIDANCE)
        self.guidance_spin.setSingleStep(0.5)
        self.guidance_spin.setDecimals(1)
        form.addRow("Guidance", self.guidance_spin)
        self.scheduler_combo = QComboBox()
        self.scheduler_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.scheduler_combo.setMinimumContentsLength(8)
        for name in SCHEDULERS:
            self.scheduler_combo.addItem(SCHEDULER_LABELS.get(name, name), name)
        form.addRow("Scheduler", self.scheduler_combo)
        return group

    def _build_run_area(self) -> QVBoxLayout:
        layout = QVBoxLayout()
        buttons = QHBoxLayout()
        self.generate_button = QPushButton("Generate")
        self.generate_button.setDefault(True)
        self.generate_button.setToolTip("Generate images from the prompt and the control layers (Ctrl+Enter)")
        self.generate_button.clicked.connect(self.generate_requested)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel_requested)
        buttons.addWidget(self.generate_button, 1)
        buttons.addWidget(self.cancel_button)
        layout.addLayout(buttons)
        self.live_controls = LiveControls()
        layout.addWidget(self.live_controls)
        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(True)
        layout.addWidget(self.progress_bar)
        self.preview_label = QLabel()
        self.preview_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview_label.setFixedHeight(PREVIEW_SIZE)
        self.preview_label.hide()
        layout.addWidget(self.preview_label)
        self.message_bar = MessageBar()
        layout.addWidget(self.message_bar)
        return layout

    def _connect_changes(self) -> None:
        changed = lambda *_args: self._widgets_changed()  # noqa: E731 - the signals carry different values
        for box in (self.prompt_edit, self.negative_edit):
            box.textChanged.connect(changed)
        for spin in (self.width_spin, self.height_spin, self.steps_spin, self.guidance_spin, self.batch_spin):
            spin.valueChanged.connect(changed)
        self.seed_edit.textChanged.connect(changed)
        self.random_seed_check.toggled.connect(changed)
        for combo in (self.model_combo, self.scheduler_combo):
            combo.currentIndexChanged.connect(changed)
        self.control_table.changed.connect(changed)
        for group in (self.lora_list, self.hires_fields, self.inpaint_fields):
            group.changed.connect(changed)

    # State ---------------------------------------------------------------------------------------
    def settings(self) -> GenerationSettings:
        """The current settings (a copy of the state the panel is bound to)."""
        return self.state.value

    def set_settings(self, settings: GenerationSettings) -> None:
        """Make `settings` current and show them (a model name the combo lacks is ignored)."""
        self._show(settings)
        self.state.set(self._read_widgets())

    def _widgets_changed(self) -> None:
        """The designer changed a field: the state follows (its `changed` then reaches everyone else)."""
        if not self._applying:
            self.state.set(self._read_widgets())

    def _state_changed(self, settings: GenerationSettings) -> None:
        """Someone else set the state: show it, unless the widgets already do (their own change)."""
        if settings != self._read_widgets():
            self._show(settings)
            shown = self._read_widgets()
            if shown != settings:  # clamped by a widget, or a model the combo lacks
                self.state.set(shown)
                return
        self.hires_fields.show_size(settings)
        self._show_section_titles(settings)
        self.settings_changed.emit()

    def _show_section_titles(self, settings: GenerationSettings) -> None:
        """Folded sections still say what is on: how many LoRAs are used, whether the hires fix is."""
        used = sum(lora.enabled for lora in settings.loras)
        self.sections["loras"].header.setText(f"LoRA · {used} on" if used else "LoRA")
        self.sections["hires"].header.setText("Hires fix · on" if settings.hires_enabled else "Hires fix")

    def _read_widgets(self) -> GenerationSettings:
        seed_text = self.seed_edit.text().strip()
        seed = None if self.random_seed_check.isChecked() or not seed_text else int(seed_text)
        settings = GenerationSettings(
            model=self.model_combo.currentData(),
            prompt=self.prompt_edit.toPlainText(),
            negative_prompt=self.negative_edit.toPlainText(),
            width=self.width_spin.value(),
            height=self.height_spin.value(),
            steps=self.steps_spin.value(),
            guidance_scale=self.guidance_spin.value(),
            seed=seed,
            scheduler=self.scheduler_combo.currentData(),
            batch_size=self.batch_spin.value(),
            controls=self.control_table.settings(),
            loras=self.lora_list.settings(),
        )
        self.hires_fields.read_into(settings)
        self.inpaint_fields.read_into(settings)
        return settings

    def _show(self, settings: GenerationSettings) -> None:
        """Write `settings` into the widgets; their change signals are not edits meanwhile."""
        self._applying = True
        try:
            self._write_widgets(settings)
        finally:
            self._applying = False

    def _write_widgets(self, settings: GenerationSettings) -> None:
        if settings.model is not None and self.model_combo.findData(settings.model) >= 0:
            self.model_combo.setCurrentIndex(self.model_combo.findData(settings.model))
        self.prompt_edit.setPlainText(settings.prompt)
        self.negative_edit.setPlainText(settings.negative_prompt)
        self.width_spin.setValue(settings.width)
        self.height_spin.setValue(settings.height)
        self.steps_spin.setValue(settings.steps)
        self.guidance_spin.setValue(settings.guidance_scale)
        self.random_seed_check.setChecked(settings.seed is None)
        self.seed_edit.setText("" if settings.seed is None else str(settings.seed))
        self.scheduler_combo.setCurrentIndex(max(0, self.scheduler_combo.findData(settings.scheduler)))
        self.batch_spin.setValue(settings.batch_size)
        self.control_table.set_settings(settings.controls)
        if settings.loras != self.lora_list.settings():
            self.lora_list.set_settings(settings.loras)
        self.hires_fields.show_settings(settings)
        self.inpaint_fields.show_settings(settings)

    def apply_fields(
        self,
        *,
        prompt: str | None = None,
        negative: str | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> None:
        """Set the given fields (None leaves a field alone) as one undoable step."""
        before = self.settings()
        after = before.copy()
        if prompt is not None:
            after.prompt = prompt
        if negative is not None:
            after.negative_prompt = negative
        if width is not None:
            after.width = int(width)
        if height is not None:
            after.height = int(height)
        if after == before:
            return
        self.set_settings(after)
        if self.undo_history is not None:
            self.undo_history.push(SettingsStep(self.state, before=before, after=self.settings(),
                                                label="Apply prompt fields"))

    def set_lora_choices(self, paths: list[Path], *, folder: Path | None) -> None:
        """The LoRA folder's files, offered in the LoRA list (`folder` None: none is set)."""
        self.lora_list.set_choices(paths, folder=folder)

    # Dropping a file -----------------------------------------------------------------------------
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 - Qt's name
        if _dropped_file(event) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 - Qt's name
        path = _dropped_file(event)
        if path is not None:
            event.acceptProposedAction()
            self.file_dropped.emit(path)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        """A file dropped on a prompt box is a file for the panel, not its path as text."""
        if event.type() in (QEvent.Type.DragEnter, QEvent.Type.DragMove) and _dropped_file(event) is not None:
            event.acceptProposedAction()
            return True
        if event.type() == QEvent.Type.Drop and _dropped_file(event) is not None:
            self.dropEvent(event)
            return True
        return super().eventFilter(watched, event)

    def set_models(self, names: list[str], *, current: str | None = None) -> None:
        """Fill the model choice; keeps the current one when it is still there."""
        keep = current or self.model_combo.currentData()
        self.model_combo.clear()
        for name in names:
            self.model_combo.addItem(name, name)
        index = self.model_combo.findData(keep)
        self.model_combo.setCurrentIndex(index if index >= 0 else (0 if names else -1))

    # Run feedback --------------------------------------------------------------------------------
    def set_running(self, running: bool, *, steps: int = 0) -> None:
        """Show a run starting (`steps`: its denoising steps, so the bar is determinate from the start) or
        ending."""
        self.generate_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        if running:
            self.message_bar.dismiss()
            self.progress_bar.setRange(0, max(1, steps))
            self.progress_bar.setValue(0)
            self.progress_bar.setFormat(f"Loading model… 0 / {steps}" if steps else "Loading model…")
        else:
            self.progress_bar.setRange(0, 1)
            self.progress_bar.setValue(0)
            self.progress_bar.setFormat("Idle")
            self.preview_label.hide()

    def show_progress(self, *, step: int, total: int, preview: np.ndarray | None = None) -> None:
        self.progress_bar.setRange(0, max(1, total))
        self.progress_bar.setValue(step)
        self.progress_bar.setFormat(f"Step {step} / {total}")
        if preview is not None:
            pixmap = rgb_to_pixmap(preview).scaled(
                PREVIEW_SIZE,
                PREVIEW_SIZE,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
            self.preview_label.setPixmap(pixmap)
            self.preview_label.show()

    def show_seed_used(self, seed: int) -> None:
        self.seed_used_label.setText(f"Seed used: {seed}")
        self._last_seed = seed
        self.reuse_seed_button.setEnabled(True)

    def _keep_last_seed(self) -> None:
        self.random_seed_check.setChecked(False)
        self.seed_edit.setText(str(self._last_seed))
