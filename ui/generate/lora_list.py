"""The Generate panel's LoRA list: one row per LoRA (use, name, weight, remove), and a row to add one from the
LoRA folder or from any file. The list's logic (add once, remove) is `studio.app.loras`."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDoubleSpinBox, QFileDialog, QGridLayout, QHBoxLayout, QLabel, QToolButton, QVBoxLayout,
    QWidget,
)  # fmt: skip

from studio.app.generation_settings import LoraSetting
from studio.app.loras import add_lora, remove_lora
from studio.engine.lora import MAX_LORA_WEIGHT
from studio.errors import StudioError

LORA_FILTER = "LoRA files (*.safetensors *.pt *.ckpt *.bin)"


class _LoraRow:
    def __init__(self, lora: LoraSetting) -> None:
        self.path = lora.path
        self.use = QCheckBox(Path(lora.path).stem)
        self.use.setToolTip(lora.path)
        self.use.setChecked(lora.enabled)
        self.weight = QDoubleSpinBox()
        self.weight.setRange(-MAX_LORA_WEIGHT, MAX_LORA_WEIGHT)
        self.weight.setSingleStep(0.05)
        self.weight.setDecimals(2)
        self.weight.setValue(lora.weight)
        self.weight.setToolTip("LoRA weight: 1 as trained, 0 off, negative inverts it")
        self.weight.setEnabled(lora.enabled)
        self.remove = QToolButton()
        self.remove.setText("✕")
        self.remove.setToolTip(f"Remove {Path(lora.path).stem} from the list")

    def setting(self) -> LoraSetting:
        return LoraSetting(path=self.path, weight=self.weight.value(), enabled=self.use.isChecked())


class LoraList(QWidget):
    """Emits `changed` on any edit and `refused(text)` when a file cannot be added."""

    changed = Signal()
    refused = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.rows_widget = QWidget()
        self.grid = QGridLayout(self.rows_widget)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setVerticalSpacing(2)
        self.grid.setColumnStretch(0, 1)
        layout.addWidget(self.rows_widget)
        self.empty_label = QLabel("No LoRA. Add one below, or write <lora:name:weight> in the prompt.")
        self.empty_label.setWordWrap(True)
        layout.addWidget(self.empty_label)
        add_row = QHBoxLayout()
        self.choice = QComboBox()
        self.choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.choice.setMinimumContentsLength(6)
        self.choice.setToolTip("The LoRAs of the LoRA folder (set it in Generate ▸ Models…)")
        add_row.addWidget(self.choice, 1)
        self.add_button = QToolButton()
        self.add_button.setText("Add")
        self.add_button.setToolTip("Add the chosen LoRA to the list")
        self.add_button.clicked.connect(lambda: self.add(self.choice.currentData()) if self.choice.currentData()
                                        else None)
        add_row.addWidget(self.add_button)
        self.file_button = QToolButton()
        self.file_button.setText("File…")
        self.file_button.setToolTip("Add a LoRA file from anywhere")
        self.file_button.clicked.connect(self._pick_file)
        add_row.addWidget(self.file_button)
        layout.addLayout(add_row)
        self.rows: list[_LoraRow] = []
        self.set_choices([], folder=None)
        self.set_settings([])

    def set_choices(self, paths: list[Path], *, folder: Path | None) -> None:
        """The LoRAs the `folder` holds (offered for adding); None: no folder is set."""
        self.choice.clear()
        for path in paths:
            self.choice.addItem(path.stem, str(path))
        self.choice.setPlaceholderText("No LoRA folder (Models…)" if folder is None else "LoRA folder is empty")
        self.choice.setEnabled(bool(paths))
        self.add_button.setEnabled(bool(paths))

    def settings(self) -> list[LoraSetting]:
        return [row.setting() for row in self.rows]

    def set_settings(self, loras: list[LoraSetting]) -> None:
        """Show `loras` (rows are rebuilt; their change signals are wired to `changed`)."""
        for row in self.rows:
            for widget in (row.use, row.weight, row.remove):
                self.grid.removeWidget(widget)
                widget.deleteLater()
        self.rows = []
        for index, lora in enumerate(loras):
            row = _LoraRow(lora)
            self.grid.addWidget(row.use, index, 0)
            self.grid.addWidget(row.weight, index, 1)
            self.grid.addWidget(row.remove, index, 2)
            row.use.toggled.connect(lambda on, r=row: (r.weight.setEnabled(on), self.changed.emit()))
            row.weight.valueChanged.connect(lambda _value: self.changed.emit())
            row.remove.clicked.connect(lambda _checked=False, r=row: self.remove(self.rows.index(r)))
            self.rows.append(row)
        self.rows_widget.setVisible(bool(loras))
        self.empty_label.setVisible(not loras)

    def add(self, path: str | Path) -> bool:
        """Add the LoRA at `path` (or switch it on when listed); False with `refused` when it is no LoRA file."""
        try:
            loras = add_lora(self.settings(), path)
        except StudioError as exc:
            self.refused.emit(str(exc))
            return False
        self.set_settings(loras)
        self.changed.emit()
        return True

    def remove(self, index: int) -> None:
        self.set_settings(remove_lora(self.settings(), index))
        self.changed.emit()

    def _pick_file(self) -> None:
        start = self.choice.currentData() or ""
        name, _ = QFileDialog.getOpenFileName(self, "Add a LoRA", str(Path(start).parent) if start else "",
                                              LORA_FILTER)
        if name:
            self.add(name)
