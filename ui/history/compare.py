"""Two revisions side by side: their control-layer composites (or a generation's result) with captions."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QGridLayout, QLabel, QWidget

from ui.common.images import rgb_to_pixmap


class RevisionCompareDialog(QDialog):
    """Shows two (image, caption) pairs, the older revision on the left."""

    def __init__(self, left: tuple[np.ndarray, str], right: tuple[np.ndarray, str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Compare revisions")
        grid = QGridLayout(self)
        self.images: list[QLabel] = []
        for column, (image, caption) in enumerate((left, right)):
            picture = QLabel()
            picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
            picture.setPixmap(rgb_to_pixmap(image))
            text = QLabel(caption)
            text.setWordWrap(True)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(picture, 0, column)
            grid.addWidget(text, 1, column)
            self.images.append(picture)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        grid.addWidget(buttons, 2, 0, 1, 2)
