"""First-run guide: where to point the app for models, a form to add one, the LoRA folder, and the DEMO MODE
button.

Demo mode builds tiny random models with the engine's `make_tiny` into the user's data folder (on a worker
thread) and makes them the active model, so every button can be tried without real weights. Its images are
noise by design, and the model is named so that nobody mistakes it for a real one.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton,
    QScrollArea, QToolButton, QVBoxLayout, QWidget,
)  # fmt: skip

from studio.engine.request import CONTROL_KINDS
from studio.engine.settings import ModelEntry, ModelSettings
from studio.errors import StudioError
from ui.common.message_bar import MessageBar

if TYPE_CHECKING:
    from studio.app.paths import AppPaths
    from ui.common.workers import JobRunner

DEMO_MODEL_NAME = "DEMO tiny random (noise)"

GUIDE_TEXT = """<h3>Point ControlNet Studio at your models</h3>
<p>The studio runs Stable Diffusion with ControlNet on this computer and never downloads anything.
A model is a <b>base model</b> plus up to one <b>ControlNet</b> per layer (edges, pose, depth). Each can be:</p>
<ul>
<li>a <b>diffusers folder</b> (it holds <code>model_index.json</code> or <code>config.json</code>),</li>
<li>a single <b>.safetensors</b> file (e.g. <code>v1-5-pruned-emaonly.safetensors</code>,
<code>control_v11p_sd15_scribble.safetensors</code>),</li>
<li>a <b>Hugging Face id</b> such as <code>org/name</code> that is already in your local Hugging Face cache.</li>
</ul>
<p>Add one below, or from a terminal: <code>studio models add NAME PATH</code>.
Settings are kept in <code>{settings}</code>.</p>"""


class _PathField(QWidget):
    """A line edit with 'File…' and 'Folder…' browse buttons."""

    def __init__(self, placeholder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        layout.addWidget(self.edit, 1)
        for text, pick in (("File…", self._pick_file), ("Folder…", self._pick_folder)):
            button = QToolButton()
            button.setText(text)
            button.clicked.connect(pick)
            layout.addWidget(button)

    def _pick_file(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Choose a model file", "", "Safetensors (*.safetensors)")
        if name:
            self.edit.setText(name)

    def _pick_folder(self) -> None:
        name = QFileDialog.getExistingDirectory(self, "Choose a diffusers model folder")
        if name:
            self.edit.setText(name)

    def text(self) -> str:
        return self.edit.text().strip()


class ModelsGuideDialog(QDialog):
    """Explains model sources, adds a model to the settings file, and starts demo mode.

    Emits `models_changed` after the settings file was written (by the form or by demo mode).
    """

    models_changed = Signal()
    demo_ready = Signal()  # demo mode was switched on (after models_changed): use its fast settings

    def __init__(self, *, paths: "AppPaths", runner: "JobRunner", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Models – Getting started")
        self.setMinimumWidth(620)
        self.paths = paths
        self.runner = runner
        self.demo_job = None
        outer = QVBoxLayout(self)
        # The guide scrolls up and down when the screen is short (1366x768 with a large font); buttons stay.
        self.scroll_area = scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        guide = QLabel(GUIDE_TEXT.format(settings=paths.model_settings))
        guide.setWordWrap(True)
        guide.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(guide)
        layout.addWidget(self._build_form())
        layout.addWidget(self._build_lora_folder())
        layout.addWidget(self._build_demo())
        self.body_layout = layout  # the scrolled column of groups (more settings go in here)
        scroll.setWidget(body)
        screen = (parent.screen() if parent is not None else self.screen()).availableGeometry()
        scroll.setMinimumHeight(min(body.sizeHint().height(), max(200, screen.height() - 180)))
        outer.addWidget(scroll, 1)
        self.message_bar = MessageBar()
        outer.addWidget(self.message_bar)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        outer.addWidget(buttons)

    def _build_form(self) -> QGroupBox:
        group = QGroupBox("Add a model")
        form = QFormLayout(group)
        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("e.g. sd15")
        form.addRow("Name", self.name_edit)
        self.base_field = _PathField("base model: folder, .safetensors file or org/name")
        form.addRow("Base model", self.base_field)
        self.control_fields: dict[str, _PathField] = {}
        for kind in CONTROL_KINDS:
            self.control_fields[kind] = _PathField(f"optional ControlNet for the {kind} layer")
            form.addRow(f"ControlNet ({kind})", self.control_fields[kind])
        add = QPushButton("Add and use this model")
        add.clicked.connect(self.add_model_from_form)
        form.addRow("", add)
        return group

    def _build_lora_folder(self) -> QGroupBox:
        """The folder the Generate panel lists LoRAs from and `<lora:name:weight>` prompt tags are found in."""
        group = QGroupBox("LoRA folder")
        row = QHBoxLayout(group)
        self.lora_dir_edit = QLineEdit()
        self.lora_dir_edit.setPlaceholderText("a folder of .safetensors LoRAs (kohya/A1111 or diffusers)")
        try:
            self.lora_dir_edit.setText(ModelSettings.load(self.paths.model_settings).lora_dir or "")
        except StudioError:
            pass  # a broken settings file is reported by the window; the field starts empty
        row.addWidget(self.lora_dir_edit, 1)
        browse = QToolButton()
        browse.setText("Folder…")
        browse.clicked.connect(self._pick_lora_folder)
        row.addWidget(browse)
        self.lora_dir_button = QPushButton("Keep")
        self.lora_dir_button.setToolTip("Keep this LoRA folder in the model settings (empty: none)")
        self.lora_dir_button.clicked.connect(self.save_lora_folder)
        row.addWidget(self.lora_dir_button)
        return group

    def _pick_lora_folder(self) -> None:
        name = QFileDialog.getExistingDirectory(self, "Choose the LoRA folder", self.lora_dir_edit.text())
        if name:
            self.lora_dir_edit.setText(name)
            self.save_lora_folder()

    def save_lora_folder(self) -> bool:
        """Write the field's folder into the model settings file; False (with the reason) when refused."""
        from studio.app.loras import set_lora_folder

        try:
            settings = set_lora_folder(self.paths.model_settings, self.lora_dir_edit.text())
        except StudioError as exc:
            self.message_bar.show_error(str(exc))
            return False
        self.message_bar.show_info(f"LoRA folder: {settings.lora_dir}." if settings.lora_dir
                                   else "No LoRA folder is set.")
        self.models_changed.emit()
        return True

    def _build_demo(self) -> QGroupBox:
        group = QGroupBox("No models yet?")
        layout = QVBoxLayout(group)
        note = QLabel(
            "<b>DEMO MODE</b> builds tiny random models (a few MB, about a minute) in "
            f"<code>{self.paths.demo_models}</code> so you can try every button. "
            "Their pictures are <b>random noise</b>: for real images add a real model above."
        )
        note.setWordWrap(True)
        layout.addWidget(note)
        self.demo_button = QPushButton("Start DEMO MODE (tiny random models)")
        self.demo_button.setObjectName("demoButton")
        self.demo_button.clicked.connect(self.start_demo_mode)
        layout.addWidget(self.demo_button)
        return group

    def add_section(self, widget: QWidget) -> None:
        """More settings below the model form (the window adds the scorer folder here)."""
        self.body_layout.addWidget(widget)

    # Adding a model ------------------------------------------------------------------------------
    def add_model_from_form(self) -> bool:
        name = self.name_edit.text().strip()
        base = self.base_field.text()
        if not name or not base:
            self.message_bar.show_error("Give the model a name and a base model source.")
            return False
        controlnets = {kind: field.text() for kind, field in self.control_fields.items() if field.text()}
        try:
            add_model(self.paths.model_settings, name=name, entry=ModelEntry(base=base, controlnets=controlnets))
        except StudioError as exc:
            self.message_bar.show_error(str(exc))
            return False
        self.message_bar.show_info(f"Model {name!r} added and selected.")
        self.models_changed.emit()
        return True

    # Demo mode -----------------------------------------------------------------------------------
    def start_demo_mode(self) -> None:
        """Build the tiny models on the worker thread, then register them as the active model."""
        self.demo_button.setEnabled(False)
        self.message_bar.show_info("Building the demo models… (the window stays usable)")
        folder, settings_file = self.paths.demo_models, self.paths.model_settings
        self.demo_job = self.runner.submit(
            lambda _report, _cancel: install_demo_models(folder, settings_file),
            on_finished=self._demo_ready,
            on_failed=self._demo_failed,
        )

    def _demo_ready(self, _result: object) -> None:
        self.demo_button.setEnabled(True)
        self.message_bar.show_info(f"DEMO MODE is on: the model “{DEMO_MODEL_NAME}” is selected.")
        self.models_changed.emit()
        self.demo_ready.emit()

    def _demo_failed(self, error: BaseException) -> None:
        self.demo_button.setEnabled(True)
        self.message_bar.show_error(f"Could not build the demo models ({error}).")


def add_model(settings_file: Path, *, name: str, entry: ModelEntry) -> ModelSettings:
    """Add (or replace) model `name` in the settings file and make it the active one."""
    settings = ModelSettings.load(settings_file)
    settings.models[name] = entry
    settings.active = name
    settings.save(settings_file)
    return settings


def install_demo_models(folder: Path, settings_file: Path) -> ModelSettings:
    """Build tiny random models in `folder` (if not there yet) and make them the active model."""
    from studio.engine.tiny import CONTROLNETS_DIR, make_tiny

    marker = folder / "model_index.json"
    if not marker.exists():
        tiny = make_tiny(folder)
        controlnets = {kind: str(path) for kind, path in tiny.controlnets.items()}
    else:
        controlnets = {kind: str(folder / CONTROLNETS_DIR / kind) for kind in CONTROL_KINDS}
    entry = ModelEntry(base=str(folder), controlnets=controlnets)
    return add_model(settings_file, name=DEMO_MODEL_NAME, entry=entry)
