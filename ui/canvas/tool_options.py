"""The tool options bar: size, hardness, pressure, depth value/mode/strength, fill tolerance, gradient shape, and
for the mask tools the grow/feather amount with the mask commands.

It edits the view's shared `ToolSettings` and shows only the options of the current tool.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QSlider, QSpinBox, QToolBar, QToolButton, QWidget

from studio.document.depth import DEPTH_MODES
from ui.canvas.brush_memory import hardness_setting
from ui.canvas.tools.base import ToolSettings

#: Which options each tool shows.
TOOL_OPTIONS = {
    "brush": ("size", "hardness", "pressure"),
    "eraser": ("size", "hardness", "pressure"),
    "line": ("size", "hardness"),
    "depth_brush": ("size", "hardness", "pressure", "mode", "value", "strength"),
    "gradient": ("value", "shape"),
    "fill": ("value", "tolerance"),
    "pose": ("pose",),
    "mask_brush": ("size", "hardness", "pressure", "amount", "mask"),
    "mask_eraser": ("size", "hardness", "pressure", "amount", "mask"),
    "mask_fill": ("tolerance", "amount", "mask"),
}


class ToolOptionsBar(QToolBar):
    """Widgets bound to `settings`; `show_for(tool_name)` switches the visible set."""

    def __init__(self, settings: ToolSettings, parent: QWidget | None = None) -> None:
        super().__init__("Tool options", parent)
        self.setObjectName("toolOptions")
        self.settings = settings
        self._groups: dict[str, list[QAction]] = {}

        self.size_spin = QSpinBox()
        self.size_spin.setRange(1, 1024)
        self.size_spin.setSuffix(" px")
        self.size_spin.setValue(settings.brush_size)
        self.size_spin.setToolTip("Brush size ([ and ] change it)")
        self.size_spin.valueChanged.connect(lambda v: setattr(settings, "brush_size", v))
        self._add("size", QLabel(" Size "), self.size_spin)

        self._hardness_setting = "edge_hardness"
        self.hardness_slider = QSlider(Qt.Orientation.Horizontal)
        self.hardness_slider.setRange(0, 100)
        self.hardness_slider.setFixedWidth(90)
        self.hardness_slider.setValue(round(settings.edge_hardness * 100))
        self.hardness_slider.setToolTip("Hardness: 100 % draws hard, pure white edges; lower values feather them")
        self.hardness_label = QLabel()
        self.hardness_label.setMinimumWidth(36)
        self.hardness_slider.valueChanged.connect(self._hardness_changed)
        self._hardness_changed(self.hardness_slider.value())
        self._add("hardness", QLabel(" Hardness "), self.hardness_slider, self.hardness_label)

        self.pressure_check = QCheckBox("Pen pressure")
        self.pressure_check.setToolTip("A tablet pen's pressure scales the brush size")
        self.pressure_check.setChecked(settings.use_pressure)
        self.pressure_check.toggled.connect(lambda on: setattr(settings, "use_pressure", on))
        self._add("pressure", self.pressure_check)

        self.mode_combo = QComboBox()
        for mode in DEPTH_MODES:
            self.mode_combo.addItem(mode.capitalize(), mode)
        self.mode_combo.setToolTip("Set towards the value, raise, lower or smooth the depth")
        self.mode_combo.currentIndexChanged.connect(
            lambda _i: setattr(settings, "depth_mode", self.mode_combo.currentData())
        )
        self._add("mode", QLabel(" Mode "), self.mode_combo)

        self.value_slider = QSlider(Qt.Orientation.Horizontal)
        self.value_slider.setRange(0, 255)
        self.value_slider.setFixedWidth(120)
        self.value_slider.setValue(settings.depth_value)
        self.value_slider.setToolTip("Depth value: 0 far (black) to 255 near (white)")
        self.value_label = QLabel(str(settings.depth_value))
        self.value_label.setMinimumWidth(28)
        self.value_slider.valueChanged.connect(self._value_changed)
        self._add("value", QLabel(" Near value "), self.value_slider, self.value_label)

        self.strength_slider = QSlider(Qt.Orientation.Horizontal)
        self.strength_slider.setRange(1, 100)
        self.strength_slider.setFixedWidth(90)
        self.strength_slider.setValue(round(settings.depth_strength * 100))
        self.strength_slider.setToolTip("How strongly one stroke changes the depth")
        self.strength_slider.valueChanged.connect(lambda v: setattr(settings, "depth_strength", v / 100.0))
        self._add("strength", QLabel(" Strength "), self.strength_slider)

        self.tolerance_spin = QSpinBox()
        self.tolerance_spin.setRange(0, 255)
        self.tolerance_spin.setValue(settings.fill_tolerance)
        self.tolerance_spin.setToolTip(
            "Fill takes in the connected area whose depth (mask fill: reference colour) is within this many "
            "levels of the clicked one (Shift-click fills the whole layer)"
        )
        self.tolerance_spin.valueChanged.connect(lambda v: setattr(settings, "fill_tolerance", v))
        self._add("tolerance", QLabel(" Tolerance "), self.tolerance_spin)

        self.shape_combo = QComboBox()
        self.shape_combo.addItem("Linear", "linear")
        self.shape_combo.addItem("Radial", "radial")
        self.shape_combo.currentIndexChanged.connect(
            lambda _i: setattr(settings, "gradient_shape", self.shape_combo.currentData())
        )
        self._add("shape", QLabel(" Shape "), self.shape_combo)

        self.amount_spin = QSpinBox()
        self.amount_spin.setRange(1, 256)
        self.amount_spin.setSuffix(" px")
        self.amount_spin.setValue(settings.mask_amount)
        self.amount_spin.setToolTip("How far Grow, Shrink and Feather Mask reach")
        self.amount_spin.valueChanged.connect(lambda v: setattr(settings, "mask_amount", v))
        self._add("amount", QLabel(" Amount "), self.amount_spin)
        self._groups["pose"] = []
        self._groups["mask"] = []

    def add_pose_actions(self, actions: list[QAction]) -> None:
        """Pose commands (add person, delete, mirror, hands, face) shown while the pose tool is current.

        Each gets its own tool button, and only the button is hidden for other tools: hiding the shared QAction
        would also empty the Pose menu (issue 19 item 7)."""
        self._add_buttons("pose", actions)

    def add_mask_actions(self, actions: list[QAction]) -> None:
        """Mask commands (invert, grow, shrink, feather, clear) shown while a mask tool is current."""
        self._add_buttons("mask", actions)

    def _add_buttons(self, group: str, actions: list[QAction]) -> None:
        for action in actions:
            button = QToolButton(self)
            button.setDefaultAction(action)
            button.setAutoRaise(True)
            if action.menu() is not None:
                button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
            self._groups[group].append(self.addWidget(button))

    def _add(self, group: str, *widgets: QWidget) -> None:
        self._groups[group] = [self.addWidget(widget) for widget in widgets]

    def _value_changed(self, value: int) -> None:
        self.settings.depth_value = value
        self.value_label.setText(str(value))

    def _hardness_changed(self, value: int) -> None:
        setattr(self.settings, self._hardness_setting, value / 100.0)
        self.hardness_label.setText(f"{value} %")

    def show_for(self, tool_name: str) -> None:
        self._hardness_setting = hardness_setting(tool_name)
        self.size_spin.setValue(self.settings.brush_size)  # the tool's own size (`BrushMemory`)
        self.hardness_slider.setValue(round(getattr(self.settings, self._hardness_setting) * 100))
        self.hardness_label.setText(f"{self.hardness_slider.value()} %")
        wanted = TOOL_OPTIONS.get(tool_name, ())
        for group, actions in self._groups.items():
            for action in actions:
                action.setVisible(group in wanted)

    def change_size(self, factor: float) -> None:
        """Grow (factor > 1) or shrink the brush, by at least one pixel."""
        size = self.size_spin.value()
        new = round(size * factor)
        new = new if new != size else size + (1 if factor > 1 else -1)
        self.size_spin.setValue(new)
