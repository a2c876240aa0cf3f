"""The window's menus, built from the controllers' command tables (`ui.common.commands.Command`), plus the parts
only the shell knows: recent files, undo/redo, panels and tool bars, tools, pose templates, the models guide.
Every action is kept in `Menus.commands` by key (with the shortcuts a designer expects)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from studio.document.pose_templates import template_names

from ui.canvas.pose_actions import TOOLBAR_KEYS
from ui.common.commands import Command

if TYPE_CHECKING:
    from ui.shell.main_window import MainWindow

MENU_TITLES = {"File": "&File", "Edit": "&Edit", "View": "&View", "Tools": "&Tools", "Pose": "&Pose",
               "Generate": "&Generate", "History": "Hi&story", "Help": "&Help"}


class Menus:
    """The menu bar of one window: `commands` (key -> QAction), `recent_menu`, `refresh_recent()`."""

    def __init__(self, window: "MainWindow", table: list[Command]) -> None:
        self.window = window
        self.commands: dict[str, QAction] = {}
        self.menus: dict[str, QMenu] = {name: window.menuBar().addMenu(title) for name, title in MENU_TITLES.items()}
        by_menu: dict[str, list[Command]] = {}
        for command in table:
            if command.menu not in self.menus:
                raise ValueError(f"Command {command.key!r} names an unknown menu {command.menu!r}.")
            by_menu.setdefault(command.menu, []).append(command)
        self._file(by_menu.pop("File", []))
        self._edit(by_menu.pop("Edit", []))
        self._view()
        self._tools()
        self._pose(by_menu.pop("Pose", []))
        self._generate(by_menu.pop("Generate", []))
        self._help()
        for name, commands in by_menu.items():
            self._add_all(self.menus[name], commands)

    def action(self, command: Command) -> QAction:
        """The QAction of `command` (kept in `commands` under its key)."""
        action = QAction(command.text, self.window)
        if command.shortcut is not None:
            action.setShortcut(QKeySequence(command.shortcut))
        if command.tip:
            action.setStatusTip(command.tip)
            action.setToolTip(command.tip)
        run = command.run
        action.triggered.connect(lambda _checked=False: run())
        self.commands[command.key] = action
        return action

    def _add_all(self, menu: QMenu, commands: list[Command]) -> None:
        for command in commands:
            if command.separator:
                menu.addSeparator()
            menu.addAction(self.action(command))

    def _file(self, commands: list[Command]) -> None:
        menu = self.menus["File"]
        keys = [command.key for command in commands]
        split = keys.index("open") + 1 if "open" in keys else len(commands)
        self._add_all(menu, commands[:split])
        self.recent_menu = menu.addMenu("Open &Recent")
        self.refresh_recent()
        self._add_all(menu, commands[split:])
        menu.addSeparator()
        menu.addAction(self.action(Command("quit", "File", "&Quit", self.window.close,
                                           shortcut=QKeySequence.StandardKey.Quit)))

    def refresh_recent(self) -> None:
        window, menu = self.window, self.recent_menu
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
        clear.triggered.connect(lambda: (window.app_settings.clear_recent_files(), self.refresh_recent()))

    def _edit(self, commands: list[Command]) -> None:
        undo = self.window.undo
        menu = self.menus["Edit"]
        menu.addAction(undo.undo_action)
        menu.addAction(undo.redo_action)
        self.commands["undo"] = undo.undo_action
        self.commands["redo"] = undo.redo_action
        menu.addSeparator()
        self._add_all(menu, commands)

    def _view(self) -> None:
        window, view = self.window, self.window.view
        menu = self.menus["View"]
        self._add_all(menu, [
            Command("zoom_in", "View", "Zoom &In", view.zoom_in, shortcut=QKeySequence.StandardKey.ZoomIn),
            Command("zoom_out", "View", "Zoom &Out", view.zoom_out, shortcut=QKeySequence.StandardKey.ZoomOut),
            Command("fit", "View", "&Fit to Window", view.fit_to_window, shortcut="Ctrl+0"),
            Command("actual_size", "View", "&Actual Pixels", view.actual_size, shortcut="Ctrl+1"),
        ])
        self.commands["zoom_in"].setShortcuts([QKeySequence.StandardKey.ZoomIn, QKeySequence("Ctrl+=")])
        menu.addSeparator()
        panels = menu.addMenu("&Panels")
        for dock in window.docks.values():
            panels.addAction(dock.toggleViewAction())
        panels.addSeparator()
        panels.addAction(window.tools_bar.toggleViewAction())
        panels.addAction(window.tool_options.toggleViewAction())

    def _tools(self) -> None:
        window = self.window
        menu = self.menus["Tools"]
        for action in window.tool_actions.values():
            menu.addAction(action)
        menu.addSeparator()
        options = window.tool_options
        self._add_all(menu, [
            Command("size_up", "Tools", "Larger Brush", lambda: options.change_size(1.25), shortcut="]"),
            Command("size_down", "Tools", "Smaller Brush", lambda: options.change_size(0.8), shortcut="["),
        ])

    def _pose(self, commands: list[Command]) -> None:
        window = self.window
        pose = window.view.tools["pose"]
        run = window.view.run_edit
        menu = self.menus["Pose"]
        add_menu = QMenu("&Add Person", window)
        for name in template_names():
            action = add_menu.addAction(name.replace("_", " ").capitalize())
            action.triggered.connect(lambda _checked=False, n=name: (window.view.set_tool("pose"),
                                                                      run(lambda: pose.add_template(n))))
        add_action = add_menu.menuAction()
        add_action.setToolTip("Add a person from a template")
        self.commands["add_person"] = add_action
        menu.addMenu(add_menu)
        self._add_all(menu, commands)
        window.pose_commands.bind(self.commands, menu)
        window.tool_options.add_pose_actions([add_action, *(self.commands[key] for key in TOOLBAR_KEYS)])

    def _generate(self, commands: list[Command]) -> None:
        menu = self.menus["Generate"]
        self._add_all(menu, commands)
        menu.addSeparator()
        menu.addAction(self.action(Command("models", "Generate", "&Models and Demo Mode…",
                                           self.window.show_models_guide)))

    def _help(self) -> None:
        self.menus["Help"].addAction(self.action(Command(
            "getting_started", "Help", "&Getting Started with Models…", self.window.show_models_guide)))
