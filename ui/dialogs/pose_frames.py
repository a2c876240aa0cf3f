"""Choose one frame of an OpenPose file that holds several (ComfyUI's POSE_KEYPOINT: one pose per video frame).

Each frame is listed with a small drawing of its pose and how many people it holds; the designer picks one.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from studio.document.openpose_json import OpenPoseFile
from studio.document.pose_render import render_people
from ui.common.images import rgb_to_pixmap

THUMB_SIDE = 96  # pixels of the longer side of a frame's drawing
DRAW_SIDE = 512
MAX_THUMBS = 500  # frames beyond this are listed without a drawing (a long video would take a while to draw)


def frame_label(index: int, frame: OpenPoseFile) -> str:
    count = len(frame.people)
    people = "no person" if count == 0 else f"{count} {'person' if count == 1 else 'people'}"
    return f"Frame {index + 1}: {people}, {frame.canvas_width} × {frame.canvas_height}"


def _thumbnail(frame: OpenPoseFile) -> QIcon:
    """The frame drawn as ControlNet sees it, at up to DRAW_SIDE pixels and scaled down (the annotator's sticks
    and dots have a fixed size, which would blot out a pose drawn directly at icon size)."""
    scale = min(1.0, DRAW_SIDE / max(frame.canvas_width, frame.canvas_height))
    width, height = max(1, round(frame.canvas_width * scale)), max(1, round(frame.canvas_height * scale))
    image = render_people(frame.people, canvas_size=(frame.canvas_width, frame.canvas_height), width=width,
                          height=height)
    pixmap = rgb_to_pixmap(image).scaled(THUMB_SIDE, THUMB_SIDE, Qt.AspectRatioMode.KeepAspectRatio,
                                         Qt.TransformationMode.SmoothTransformation)
    return QIcon(pixmap)


class PoseFramesDialog(QDialog):
    """`chosen()` is the 0-based frame picked (the first frame with people is preselected)."""

    def __init__(self, frames: list[OpenPoseFile], *, file_name: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Choose a Frame")
        self.frames = frames
        layout = QVBoxLayout(self)
        where = f"“{file_name}”" if file_name else "The file"
        layout.addWidget(QLabel(f"{where} holds {len(frames)} frames, one pose each. Which one should the pose "
                                "layer get?"))
        self.list = QListWidget()
        self.list.setIconSize(QSize(THUMB_SIDE, THUMB_SIDE))
        for index, frame in enumerate(frames):
            item = QListWidgetItem(frame_label(index, frame))
            if index < MAX_THUMBS:
                item.setIcon(_thumbnail(frame))
            if not frame.people:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEnabled)  # nothing to import
            self.list.addItem(item)
        layout.addWidget(self.list, 1)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Import Frame")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        self.list.currentRowChanged.connect(self._row_changed)
        first = next((index for index, frame in enumerate(frames) if frame.people), -1)
        self.list.setCurrentRow(first)
        self._row_changed(first)
        self.resize(460, 420)

    def _row_changed(self, row: int) -> None:
        ok = 0 <= row < len(self.frames) and bool(self.frames[row].people)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def chosen(self) -> int | None:
        row = self.list.currentRow()
        return row if 0 <= row < len(self.frames) and self.frames[row].people else None


def choose_frame(frames: list[OpenPoseFile], *, file_name: str = "", parent: QWidget | None = None) -> int | None:
    """Ask which frame to import; None when the designer cancels."""
    dialog = PoseFramesDialog(frames, file_name=file_name, parent=parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.chosen()
