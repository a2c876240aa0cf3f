"""Two gallery results side by side, with the parameters that differ between them."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QGridLayout, QLabel, QWidget

from ui.common.images import rgb_to_pixmap
from studio.app.gallery import GalleryEntry

VIEW_SIZE = 512


def differing_lines(left: GalleryEntry, right: GalleryEntry) -> tuple[list[str], list[str]]:
    """The description lines of each entry that the other one lacks."""
    left_lines, right_lines = left.describe().splitlines(), right.describe().splitlines()
    return (
        [line for line in left_lines if line not in right_lines],
        [line for line in right_lines if line not in left_lines],
    )


class CompareDialog(QDialog):
    """Shows `left` and `right` at the same scale; differing parameters are listed under each image."""

    def __init__(self, left: GalleryEntry, right: GalleryEntry, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Compare #{left.entry_id} and #{right.entry_id}")
        grid = QGridLayout(self)
        differences = differing_lines(left, right)
        for column, (entry, lines) in enumerate(zip((left, right), differences)):
            image = QLabel()
            image.setAlignment(Qt.AlignmentFlag.AlignCenter)
            image.setPixmap(
                rgb_to_pixmap(entry.image).scaled(
                    VIEW_SIZE, VIEW_SIZE, Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
            caption = QLabel(f"#{entry.entry_id}\n" + ("\n".join(lines) or "Same parameters"))
            caption.setWordWrap(True)
            caption.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(image, 0, column)
            grid.addWidget(caption, 1, column)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        grid.addWidget(buttons, 2, 0, 1, 2)
