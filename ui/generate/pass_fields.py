"""The Generate panel's hires fix and inpaint fields: each group reads its part of `GenerationSettings` from its
widgets (`read_into`) and shows it (`show_settings`), and emits `changed` on any edit."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QLabel, QSpinBox, QWidget

from studio.app.generation_settings import GenerationSettings
from studio.engine.hires import MAX_HIRES_SCALE, UPSCALER_LABELS, UPSCALERS, hires_size
from studio.engine.request import MAX_STEPS


def _form(parent: QWidget) -> QFormLayout:
    form = QFormLayout(parent)
    form.setContentsMargins(0, 0, 0, 0)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    return form


def _spin(low: float, high: float, step: float, decimals: int = 2) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setRange(low, high)
    spin.setSingleStep(step)
    spin.setDecimals(decimals)
    return spin


class HiresFields(QWidget):
    """Hires fix: on/off, scale, upscaler, strength, steps, and the size it gives."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = _form(self)
        self.enabled_check = QCheckBox("Upscale and refine (hires fix)")
        self.enabled_check.setToolTip("A second pass: upscale the result, then refine it with the same controls")
        form.addRow(self.enabled_check)
        self.scale_spin = _spin(1.05, MAX_HIRES_SCALE, 0.25)
        self.scale_spin.setSuffix(" ×")
        form.addRow("Scale", self.scale_spin)
        self.upscaler_combo = QComboBox()
        for name in UPSCALERS:
            self.upscaler_combo.addItem(UPSCALER_LABELS[name], name)
        self.upscaler_combo.setToolTip("Lanczos upscales the picture; Latent upscales the latents (faster, softer)")
        form.addRow("Upscaler", self.upscaler_combo)
        self.strength_spin = _spin(0.01, 1.0, 0.05)
        self.strength_spin.setToolTip("How much the second pass repaints")
        form.addRow("Strength", self.strength_spin)
        self.steps_spin = QSpinBox()
        self.steps_spin.setRange(0, MAX_STEPS)
        self.steps_spin.setSpecialValueText("as first pass")
        form.addRow("Steps", self.steps_spin)
        self.size_label = QLabel()
        form.addRow("Result", self.size_label)
        self.enabled_check.toggled.connect(lambda _on: self.changed.emit())
        for spin in (self.scale_spin, self.strength_spin, self.steps_spin):
            spin.valueChanged.connect(lambda _value: self.changed.emit())
        self.upscaler_combo.currentIndexChanged.connect(lambda _index: self.changed.emit())

    def read_into(self, settings: GenerationSettings) -> None:
        settings.hires_enabled = self.enabled_check.isChecked()
        settings.hires_scale = self.scale_spin.value()
        settings.hires_upscaler = self.upscaler_combo.currentData()
        settings.hires_strength = self.strength_spin.value()
        settings.hires_steps = self.steps_spin.value()

    def show_settings(self, settings: GenerationSettings) -> None:
        self.enabled_check.setChecked(settings.hires_enabled)
        self.scale_spin.setValue(settings.hires_scale)
        self.upscaler_combo.setCurrentIndex(max(0, self.upscaler_combo.findData(settings.hires_upscaler)))
        self.strength_spin.setValue(settings.hires_strength)
        self.steps_spin.setValue(settings.hires_steps)
        self.show_size(settings)

    def show_size(self, settings: GenerationSettings) -> None:
        """The result's size with the fix on (or the first pass's when off); the fields follow the switch."""
        on = settings.hires_enabled
        for widget in (self.scale_spin, self.upscaler_combo, self.strength_spin, self.steps_spin):
            widget.setEnabled(on)
        width, height = hires_size(settings) if on else (settings.width, settings.height)
        self.size_label.setText(f"{width} × {height} px" + ("" if on else " (off)"))


class InpaintFields(QWidget):
    """Inpainting: strength, only the masked area (with padding), and the mask's soft edge."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = _form(self)
        note = QLabel("Paint a mask on the canvas: the masked part of the reference picture is repainted.")
        note.setWordWrap(True)
        form.addRow(note)
        self.strength_spin = _spin(0.01, 1.0, 0.05)
        self.strength_spin.setToolTip("How much the masked area is repainted (1: completely)")
        form.addRow("Strength", self.strength_spin)
        self.only_masked_check = QCheckBox("Inpaint only masked")
        self.only_masked_check.setToolTip("Repaint just the masked area at full resolution and paste it back "
                                          "(for small areas)")
        form.addRow(self.only_masked_check)
        self.padding_spin = QSpinBox()
        self.padding_spin.setRange(0, 512)
        self.padding_spin.setSuffix(" px")
        self.padding_spin.setToolTip("How much of the surroundings the repainted area sees")
        form.addRow("Padding", self.padding_spin)
        self.blur_spin = QSpinBox()
        self.blur_spin.setRange(0, 64)
        self.blur_spin.setSuffix(" px")
        self.blur_spin.setToolTip("Soft edge inside the mask where the new pixels blend into the old")
        form.addRow("Mask blur", self.blur_spin)
        self.only_masked_check.toggled.connect(lambda on: (self.padding_spin.setEnabled(on), self.changed.emit()))
        for spin in (self.strength_spin, self.padding_spin, self.blur_spin):
            spin.valueChanged.connect(lambda _value: self.changed.emit())

    def read_into(self, settings: GenerationSettings) -> None:
        settings.strength = self.strength_spin.value()
        settings.inpaint_only_masked = self.only_masked_check.isChecked()
        settings.inpaint_padding = self.padding_spin.value()
        settings.mask_blur = self.blur_spin.value()

    def show_settings(self, settings: GenerationSettings) -> None:
        self.strength_spin.setValue(settings.strength)
        self.only_masked_check.setChecked(settings.inpaint_only_masked)
        self.padding_spin.setValue(settings.inpaint_padding)
        self.padding_spin.setEnabled(settings.inpaint_only_masked)
        self.blur_spin.setValue(settings.mask_blur)

