"""The app's main window opens headless."""

from ui.main_window import MainWindow


def test_main_window_opens(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    assert window.isVisible()
    assert "ControlNet Studio" in window.windowTitle()
