"""File commands of the window: new, open, save, save as, recent files, import image, exports.

Every `.studio` read and write goes through `ui.document_storage` (one place) and runs on a file thread. Errors appear in the window's non-modal message bar
(`MainWindow.report_error`), and nothing is lost: a failed save keeps the document and its path.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QObject, QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QFileDialog, QMessageBox

from studio.document import Document, DocumentError
from studio.document.document import CONTROL_KINDS
from studio.document.openpose_json import dumps_openpose
from studio.document.picture_import import set_reference_picture
from studio.errors import StudioError
from studio.imageio import encode_png
from ui import document_storage
from ui.dialogs.new_document import NewDocumentDialog
from ui.images import qimage_to_rgb
from ui.workers import JobHandle, JobRunner

if TYPE_CHECKING:
    from ui.main_window import MainWindow

STUDIO_FILTER = "ControlNet Studio documents (*.studio)"
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff)"


class DocumentFiles(QObject):
    """Owns the current file path and the modified flag of the window's document."""

    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.window = window
        self.path: Path | None = None
        self.modified = False
        self.io = JobRunner(self)  # file reads and writes, apart from the generation thread
        self._edits = 0
        self._unsubscribe = None

    def watch_new(self, document: Document) -> None:
        """Show `document` as a new, unsaved, unmodified document."""
        self._show(document, path=None)

    def _watch(self, document: Document) -> None:
        """Track edits of `document` to know when it has unsaved changes."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._unsubscribe = document.history.subscribe(self._on_history_event)

    def _on_history_event(self, _event) -> None:
        self._edits += 1
        self._set_modified(True)

    def _set_modified(self, modified: bool) -> None:
        self.modified = modified
        self.window.setWindowModified(modified)

    # New / open / save ---------------------------------------------------------------------------
    def new(self, width: int | None = None, height: int | None = None) -> bool:
        """Start a new document; asks for the size when none is given."""
        if not self.confirm_discard():
            return False
        if width is None or height is None:
            dialog = NewDocumentDialog(self.window)
            if not dialog.exec():
                return False
            width, height = dialog.size()
        try:
            document = Document(width, height)
        except DocumentError as exc:
            self.window.report_error(str(exc), title="New document")
            return False
        self._show(document, path=None)
        return True

    def open_dialog(self) -> None:
        if not self.confirm_discard():
            return
        name, _ = QFileDialog.getOpenFileName(
            self.window, "Open document", str(self.window.app_settings.last_folder()), STUDIO_FILTER
        )
        if name:
            self.open_path(Path(name), confirm=False)

    def open_path(self, path: Path, *, confirm: bool = True) -> JobHandle | None:
        """Open a `.studio` document (read on the file thread); a missing or corrupt file leaves the current
        document as it is and shows why. Returns the job, or None when the user kept the current document."""
        if confirm and not self.confirm_discard():
            return None
        path = Path(path)
        return self.io.submit(
            lambda _report, _cancel: document_storage.load_document(path),
            on_finished=lambda document: self._opened(document, path),
            on_failed=lambda error: self._failed(error, title="Open document"),
        )

    def _opened(self, document: Document, path: Path) -> None:
        self._show(document, path=path)
        self._remember(path)
        self.window.show_status(f"Opened {path.name}")

    def save(self) -> JobHandle | None:
        """Save to the current file (adds a snapshot to its history), or ask for one."""
        if self.path is None:
            return self.save_as()
        return self.save_to(self.path, replace=False)

    def save_as(self) -> JobHandle | None:
        start = str(self.path or self.window.app_settings.last_folder() / "Untitled.studio")
        name, _ = QFileDialog.getSaveFileName(self.window, "Save document as", start, STUDIO_FILTER)
        if not name:
            return None
        path = Path(name)
        if path.suffix != ".studio":
            path = path.with_suffix(".studio")
        return self.save_to(path, replace=True)

    def save_to(self, path: Path, *, replace: bool = True) -> JobHandle:
        """Write the document to `path` on the file thread; on failure the document and its path stay as they
        were and the message bar says why. `replace` False adds to the history of the file already there."""
        path = Path(path)
        document = self.window.document
        document.finish_strokes()
        document = document_storage.detached_copy(document)
        edits_at_start = self._edits
        return self.io.submit(
            lambda _report, _cancel: document_storage.save_document(document, path, replace=replace),
            on_finished=lambda _result: self._saved(path, edits_at_start),
            on_failed=lambda error: self._failed(error, title="Save document"),
        )

    def _saved(self, path: Path, edits_at_start: int) -> None:
        self.path = path
        self._set_modified(self._edits != edits_at_start)  # edits made while saving are still unsaved
        self._remember(path)
        self.window.update_title()
        self.window.show_status(f"Saved {path.name}")

    def _failed(self, error: BaseException, *, title: str) -> None:
        if isinstance(error, (StudioError, OSError)):
            self.window.report_error(str(error), title=title)
        else:
            self.window.report_error(f"Unexpected {type(error).__name__}: {error}", title=title)

    def confirm_discard(self) -> bool:
        """True when there are no unsaved changes or the user agrees to save (and the save worked) or drop them."""
        if not self.modified or not self.window.isVisible():
            return True
        answer = QMessageBox.question(
            self.window,
            "Unsaved changes",
            "The document has unsaved changes. Save them first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Save:
            handle = self.save()
            if handle is None:
                return False
            self.io.wait()
            return handle.error is None
        return answer == QMessageBox.StandardButton.Discard

    def _show(self, document: Document, *, path: Path | None) -> None:
        self.path = path
        self.window.set_document(document)
        self._watch(document)
        self._set_modified(False)

    def _remember(self, path: Path) -> None:
        self.window.app_settings.add_recent_file(path)
        self.window.app_settings.set_last_folder(path.parent)
        self.window.refresh_recent_menu()

    # Import / export -----------------------------------------------------------------------------
    def import_image_dialog(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self.window, "Import reference image", str(self.window.app_settings.last_folder()), IMAGE_FILTER
        )
        if name:
            self.import_image(Path(name))

    def import_image(self, path: Path) -> bool:
        """Put a picture on the reference layer (scaled to cover the canvas, centre cropped); one undo step."""
        try:
            set_reference_picture(self.window.document, path)
        except StudioError as exc:
            self.window.report_error(str(exc), title="Import image")
            return False
        self.window.app_settings.set_last_folder(Path(path).parent)
        return True

    def export_control_maps_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self.window, "Export control maps to folder", str(self.window.app_settings.last_folder())
        )
        if folder:
            self.export_control_maps(Path(folder))

    def export_control_maps(self, folder: Path) -> list[Path]:
        """Write edge.png, pose.png, depth.png (the exact ControlNet inputs) and pose.json into `folder`."""
        document = self.window.document
        written: list[Path] = []
        try:
            folder.mkdir(parents=True, exist_ok=True)
            for kind in CONTROL_KINDS:
                target = folder / f"{kind}.png"
                target.write_bytes(encode_png(document.control_image(kind)))
                written.append(target)
            pose = dumps_openpose(document.pose.people, canvas_width=document.width, canvas_height=document.height)
            (folder / "pose.json").write_text(pose, encoding="utf-8")
            written.append(folder / "pose.json")
        except (OSError, StudioError) as exc:
            self.window.report_error(f"Could not export the control maps to {folder} ({exc}).", title="Export")
            return written
        self.window.show_status(f"Exported {len(written)} files to {folder}")
        return written

    def export_image_dialog(self) -> None:
        """Save the selected gallery result with its parameters, or else the canvas as seen."""
        selected = self.window.gallery_panel.selected_entries()
        if len(selected) == 1:
            self.window.generation.save_entry_dialog(selected[0])
            return
        name, _ = QFileDialog.getSaveFileName(
            self.window, "Export canvas image", str(self.window.app_settings.last_folder() / "canvas.png"),
            "PNG images (*.png)",
        )
        if name:
            self.export_canvas(Path(name))

    def export_canvas(self, path: Path) -> bool:
        """Save the visible layers, composited as on the canvas, at document size."""
        try:
            path.write_bytes(encode_png(self.render_canvas()))
        except OSError as exc:
            self.window.report_error(f"Could not write {path} ({exc}).", title="Export image")
            return False
        return True

    def render_canvas(self) -> np.ndarray:
        """The visible layers composited over black at document size, as HxWx3 RGB."""
        document = self.window.document
        image = QImage(document.width, document.height, QImage.Format.Format_RGB32)
        image.fill(0)
        painter = QPainter(image)
        with self.window.view.overlays_hidden():
            rect = QRectF(0, 0, document.width, document.height)
            self.window.view.scene().render(painter, rect, rect)
        painter.end()
        return qimage_to_rgb(image)
