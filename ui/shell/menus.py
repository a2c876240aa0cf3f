"""The window's menus and their actions (with the shortcuts a designer expects)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QToolButton

from studio.document.pose_templates import template_names

if TYPE_CHECKING:
    from ui.shell.main_window import MainWindow


def _action(
    window: "MainWindow",
    key: str,
    text: str,
    slot: Callable[[], object],
    *,
    shortcut: QKeySequence | str | None = None,
    tip: str = "",
) -> QAction:
    action = QAction(text, window)
    if shortcut is not None:
        action.setShortcut(QKeySequence(shortcut))
    if tip:
        action.setStatusTip(tip)
        action.setToolTip(tip)
    action.triggered.connect(lambda _checked=False: slot())
    window.commands[key] = action
    return action


def build_menus(window: "MainWindow") -> None:
    """Create every menu; actions are kept in `window.commands` by key."""
    window.commands = {}
    _file_menu(window)
    _edit_menu(window)
    _view_menu(window)
    _tools_menu(window)
    _pose_menu(window)
    _generate_menu(window)
    _help_menu(window)


def _file_menu(window: "MainWindow") -> None:
    files = window.files
    menu = window.menuBar().addMenu("&File")
    menu.addAction(_action(window, "new", "&New…", files.new, shortcut=QKeySequence.StandardKey.New))
    menu.addAction(_action(window, "open", "&Open…", files.open_dialog, shortcut=QKeySequence.StandardKey.Open))
    window.recent_menu = menu.addMenu("Open &Recent")
    window.refresh_recent_menu = lambda: _fill_recent_menu(window)
    _fill_recent_menu(window)
    menu.addSeparator()
    menu.addAction(_action(window, "save", "&Save", files.save, shortcut=QKeySequence.StandardKey.Save))
    menu.addAction(_action(window, "save_as", "Save &As…", files.save_as, shortcut="Ctrl+Shift+S"))
    menu.addSeparator()
    menu.addAction(_action(window, "import_image", "&Import Reference Image…", files.import_image_dialog,
                           shortcut="Ctrl+I", tip="Put a picture on the reference layer for tracing"))
    menu.addAction(_action(window, "export_maps", "Export &Control Maps…", files.export_control_maps_dialog,
                           shortcut="Ctrl+Shift+E", tip="Write the edge, pose and depth maps as PNG files"))
    menu.addAction(_action(window, "export_image", "&Export Image…", files.export_image_dialog, shortcut="Ctrl+E",
                           tip="Save the selected result with its parameters, or the canvas"))
    menu.addSeparator()
    menu.addAction(_action(window, "quit", "&Quit", window.close, shortcut=QKeySequence.StandardKey.Quit))


def _fill_recent_menu(window: "MainWindow") -> None:
    menu = window.recent_menu
    menu.clear()
    recent = window.app_settings.recent_files()
    for index, path in enumerate(recent, start=1):
        action = menu.addAction(f"&{index % 10} {path.name}")
        action.setToolTip(str(path))
        action.setStatusTip(str(path))
        action.triggered.connect(lambda _checked=False, p=path: window.files.open_path(p))
    if recent:
        menu.addSeparator()
    clear = menu.addAction("Clear Recent Files")
    clear.setEnabled(bool(recent))
    clear.triggered.connect(lambda: (window.app_settings.clear_recent_files(), _fill_recent_menu(window)))


def _edit_menu(window: "MainWindow") -> None:
    layers = window.layer_commands
    menu = window.menuBar().addMenu("&Edit")
    menu.addAction(window.undo.undo_action)
    menu.addAction(window.undo.redo_action)
    window.commands["undo"] = window.undo.undo_action
    window.commands["redo"] = window.undo.redo_action
    menu.addSeparator()
    menu.addAction(_action(window, "edges_from_reference", "Edges from Reference…", layers.edges_from_reference,
                           shortcut="Ctrl+Shift+C", tip="Trace the reference picture with Canny (live preview)"))
    menu.addAction(_action(window, "invert_edges", "Invert Edges", layers.invert_edges))
    menu.addAction(_action(window, "clear_layer", "Clear Current Layer", layers.clear_current,
                           shortcut="Ctrl+Backspace"))
    menu.addAction(_action(window, "remove_reference", "Remove Reference Image", layers.remove_reference))


def _view_menu(window: "MainWindow") -> None:
    view = window.view
    menu = window.menuBar().addMenu("&View")
    menu.addAction(_action(window, "zoom_in", "Zoom &In", view.zoom_in, shortcut=QKeySequence.StandardKey.ZoomIn))
    window.commands["zoom_in"].setShortcuts([QKeySequence.StandardKey.ZoomIn, QKeySequence("Ctrl+=")])
    menu.addAction(_action(window, "zoom_out", "Zoom &Out", view.zoom_out, shortcut=QKeySequence.StandardKey.ZoomOut))
    menu.addAction(_action(window, "fit", "&Fit to Window", view.fit_to_window, shortcut="Ctrl+0"))
    menu.addAction(_action(window, "actual_size", "&Actual Pixels", view.actual_size, shortcut="Ctrl+1"))
    menu.addSeparator()
    panels = menu.addMenu("&Panels")
    for dock in window.docks.values():
        panels.addAction(dock.toggleViewAction())
    panels.addSeparator()
    panels.addAction(window.tools_bar.toggleViewAction())
    panels.addAction(window.tool_options.toggleViewAction())


def _tools_menu(window: "MainWindow") -> None:
    menu = window.menuBar().addMenu("&Tools")
    for action in window.tool_actions.values():
        menu.addAction(action)
    menu.addSeparator()
    options = window.tool_options
    menu.addAction(_action(window, "size_up", "Larger Brush", lambda: options.change_size(1.25), shortcut="]"))
    menu.addAction(_action(window, "size_down", "Smaller Brush", lambda: options.change_size(0.8), shortcut="["))


def _pose_menu(window: "MainWindow") -> None:
    pose = window.view.tools["pose"]
    run = window.view.run_edit
    menu = window.menuBar().addMenu("&Pose")
    add_menu = QMenu("&Add Person", window)
    for name in template_names():
        action = add_menu.addAction(name.replace("_", " ").capitalize())
        action.triggered.connect(lambda _checked=False, n=name: (window.view.set_tool("pose"),
                                                                  run(lambda: pose.add_template(n))))
    add_action = add_menu.menuAction()
    add_action.setToolTip("Add a person from a template")
    window.commands["add_person"] = add_action
    menu.addMenu(add_menu)
    commands = [
        _action(window, "delete_person", "&Delete Person", lambda: run(pose.delete_selected), shortcut="Delete"),
        _action(window, "mirror_person", "&Mirror Person", lambda: run(pose.mirror_selected), shortcut="Ctrl+M"),
        _action(window, "add_hands", "Add &Hands", lambda: run(pose.add_hands)),
        _action(window, "add_face", "Add &Face", lambda: run(pose.add_face)),
    ]
    for action in commands:
        menu.addAction(action)
    window.tool_options.add_pose_actions([add_action, *commands])
    button = window.tool_options.widgetForAction(add_action)
    if isinstance(button, QToolButton):
        button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)


def _generate_menu(window: "MainWindow") -> None:
    generation = window.generation
    menu = window.menuBar().addMenu("&Generate")
    menu.addAction(_action(window, "generate", "&Generate", generation.generate, shortcut="Ctrl+Return"))
    menu.addAction(_action(window, "cancel", "&Cancel Generation", generation.cancel, shortcut="Ctrl+."))
    menu.addSeparator()
    menu.addAction(_action(window, "models", "&Models and Demo Mode…", window.show_models_guide))


def _help_menu(window: "MainWindow") -> None:
    menu = window.menuBar().addMenu("&Help")
    menu.addAction(_action(window, "getting_started", "&Getting Started with Models…", window.show_models_guide))
