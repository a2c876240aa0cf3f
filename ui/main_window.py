"""The main window (filled in by the canvas, panels and history issues)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QMainWindow
from PySide6.QtCore import Qt


class MainWindow(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("ControlNet Studio")
        label = QLabel("ControlNet Studio")
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setCentralWidget(label)
        self.resize(1280, 800)
