"""Application start-up: builds the QApplication and the main window."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication

from ui.main_window import MainWindow


def run(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    app = QApplication.instance() or QApplication(argv)
    app.setApplicationName("ControlNet Studio")
    app.setOrganizationName("ControlNetStudio")
    window = MainWindow()
    window.show()
    return app.exec()
