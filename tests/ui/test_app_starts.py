"""The main window opens headless with its docks, menus and shortcuts, and remembers its layout."""

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QLabel

from ui.shell.main_window import MainWindow


def test_main_window_opens_with_panels_and_menus(window):
    assert window.isVisible()
    assert "ControlNet Studio" in window.windowTitle()
    assert set(window.docks) >= {"layers", "generate", "gallery", "assistant", "history"}
    menus = [action.text().replace("&", "") for action in window.menuBar().actions()]
    assert menus[:3] == ["File", "Edit", "View"]
    shortcuts = {key: window.commands[key].shortcut().toString() for key in ("new", "open", "save", "undo")}
    assert shortcuts == {"new": "Ctrl+N", "open": "Ctrl+O", "save": "Ctrl+S", "undo": "Ctrl+Z"}
    tool_keys = {name: action.shortcut().toString() for name, action in window.tool_actions.items()}
    assert tool_keys == {"brush": "B", "eraser": "E", "line": "L", "depth_brush": "D", "gradient": "G",
                         "fill": "F", "pose": "P", "mask_brush": "M", "mask_eraser": "Shift+M", "mask_fill": "Shift+F"}


def test_tool_shortcut_keys_switch_tools(qtbot, window):
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_P)
    assert window.view.tool.name == "pose"
    assert window.layers_panel.current() == "pose"
    qtbot.keyClick(window.view, Qt.Key.Key_D)
    assert window.view.tool.name == "depth_brush"
    qtbot.keyClick(window.view, Qt.Key.Key_BracketRight)
    assert window.view.tool_settings.brush_size > 8


def test_add_panel_replaces_placeholder(window):
    chat = QLabel("chat")
    dock = window.add_panel("assistant", chat)
    assert dock.widget() is chat
    extra = window.add_panel("notes", QLabel("notes"), title="Notes")
    assert window.docks["notes"] is extra and extra.objectName() == "dock_notes"


def test_layout_and_recent_files_are_remembered(make_window, qsettings, tmp_path):
    first = make_window()
    first.resize(700, 520)  # inside the offscreen screen, which restoreGeometry clamps to
    first.docks["gallery"].hide()
    first.app_settings.add_recent_file(tmp_path / "a.studio")
    first.close()
    assert qsettings.contains("window/state")
    reread = QSettings(qsettings.fileName(), QSettings.Format.IniFormat)
    second = make_window(settings=reread)
    assert (second.width(), second.height()) == (700, 520)
    assert not second.docks["gallery"].isVisible()
    assert [action.text() for action in second.menus.recent_menu.actions()][0].endswith("a.studio")


def test_default_constructor_uses_given_settings_only(qtbot, qsettings, app_paths):
    window = MainWindow(settings=qsettings, paths=app_paths)
    qtbot.addWidget(window)
    window.show()
    window.close()
    assert qsettings.contains("window/geometry") and qsettings.contains("window/state")


def test_one_dock_tab_bar_on_screen(qtbot, window):
    from PySide6.QtWidgets import QTabBar

    window.resize(1300, 820)  # a relayout must not leave a second tab bar behind
    qtbot.wait(20)
    on_screen = [bar for bar in window.findChildren(QTabBar)
                 if bar.parent() is window and bar.isVisible() and window.rect().intersects(bar.geometry())]
    assert len(on_screen) == 1
    assert [on_screen[0].tabText(i) for i in range(on_screen[0].count())] == ["Generate", "Assistant"]
