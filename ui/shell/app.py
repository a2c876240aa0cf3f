"""Application start-up: builds the QApplication, applies the theme and opens the main window.

On a first run (no model set up) the models guide opens so the user learns where to point the studio or
starts the demo mode.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication

from ui.shell.main_window import MainWindow
from ui.shell.theme import apply_dark_theme


def run(argv: list[str] | None = None) -> int:
    """Start the app; an optional first argument is a `.studio` document to open."""
    argv = list(sys.argv if argv is None else argv)
    app = QApplication.instance() or QApplication(argv)
    app.setApplicationName("ControlNet Studio")
    app.setOrganizationName("ControlNetStudio")
    apply_dark_theme(app)
    window = MainWindow()
    window.show()
    if len(argv) > 1:
        window.files.open_path(Path(argv[1]), confirm=False)
    if not window.generation.has_models:
        window.show_models_guide()
    return app.exec()
