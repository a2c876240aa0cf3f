"""The scorer folder in the settings: a box (shown in the Models dialog) to choose the folder `studio scorer train`
wrote, or to turn the scorer off, with what came of the last load (the scorer's id, or why it is off)."""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QToolButton, \
    QVBoxLayout, QWidget

HELP = ("A scorer of your taste sorts the Gallery by how likely you keep each result. Train one with "
        "<code>studio scorer train DOC... --encoder CLIP --out FOLDER</code> and choose FOLDER here.")


class ScorerFolderBox(QGroupBox):
    """Shows the chosen folder and the scorer's state; `choose(folder)` is called with the folder to use ("" to
    turn the scorer off). `show_state` is connected to the controller's `state_changed`."""

    def __init__(self, folder: str, choose, parent: QWidget | None = None) -> None:
        super().__init__("Taste scorer (optional)", parent)
        self._choose = choose
        layout = QVBoxLayout(self)
        note = QLabel(HELP)
        note.setWordWrap(True)
        layout.addWidget(note)
        row = QHBoxLayout()
        self.edit = QLineEdit(folder)
        self.edit.setPlaceholderText("scorer folder (holds scorer.json)")
        self.edit.returnPressed.connect(self.use)
        row.addWidget(self.edit, 1)
        browse = QToolButton()
        browse.setText("Folder…")
        browse.clicked.connect(self._browse)
        row.addWidget(browse)
        self.use_button = QPushButton("Use")
        self.use_button.clicked.connect(self.use)
        row.addWidget(self.use_button)
        self.off_button = QPushButton("Turn off")
        self.off_button.clicked.connect(self.turn_off)
        row.addWidget(self.off_button)
        layout.addLayout(row)
        self.state_label = QLabel()
        self.state_label.setWordWrap(True)
        layout.addWidget(self.state_label)

    def _browse(self) -> None:
        name = QFileDialog.getExistingDirectory(self, "Choose a scorer folder", self.edit.text())
        if name:
            self.edit.setText(name)
            self.use()

    def use(self) -> None:
        self.state_label.setText("Loading the scorer…")
        self._choose(self.edit.text().strip())

    def turn_off(self) -> None:
        self.edit.clear()
        self._choose("")

    def show_state(self, available: bool, message: str) -> None:
        self.state_label.setText(message)
        self.state_label.setStyleSheet("" if available else "color: #b03030;")
