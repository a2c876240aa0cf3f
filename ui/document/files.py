"""File commands of the window: new, open, save, save as, recent files, restore and branches, import, exports.

A `.studio` file is the document's history store and every edit is logged into it as it is made
(`ui.history.recorder`), so nothing waits for a "save": an untitled document logs into an autosave file, Save As
copies that history to a chosen path and logging continues there, Open shows the newest revision of a file.
All disk and SQLite work runs on the history thread (`ui.history.session`, `studio.app.document_storage`). Errors appear
in the window's non-modal message bar (`MainWindow.report_error`), and nothing is lost: a failed Save As keeps
the document, its autosave and its path.
"""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6.QtCore import QLockFile, QObject, QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QFileDialog, QMessageBox

from studio.document import Document, DocumentError
from studio.document.document import CONTROL_KINDS
from studio.document.openpose_json import dumps_openpose
from studio.document.picture_import import set_reference_picture
from studio.errors import StudioError
from studio.imageio import encode_png
from ui.dialogs.new_document import NewDocumentDialog
from studio.app.document_storage import DocumentRead
from studio.app.errors import describe_error
from ui.history.session import DocumentLog
from ui.common.images import qimage_to_rgb

if TYPE_CHECKING:
    from ui.shell.main_window import MainWindow

STUDIO_FILTER = "ControlNet Studio documents (*.studio)"
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff)"


class DocumentFiles(QObject):
    """Owns the current file path and the modified flag (an untitled document with edits) of the window."""

    def __init__(self, window: "MainWindow") -> None:
        super().__init__(window)
        self.window = window
        self.path: Path | None = None
        self.modified = False
        self._unsubscribe = None

    def watch_new(self, document: Document) -> None:
        """Show `document` as a new untitled document, logged into a fresh autosave file."""
        self._show(document, path=None)
        self.window.gallery.replace([])
        self.window.history.start_untitled(document.copy(),
                                           settings=self.window.recorder.current_fields())

    def _watch(self, document: Document) -> None:
        """Track edits of `document`: an untitled document with edits asks before it is closed."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._unsubscribe = document.history.subscribe(self._on_history_event)

    def _on_history_event(self, _event) -> None:
        if self.path is None:
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
        self.watch_new(document)
        return True

    def open_dialog(self) -> None:
        if not self.confirm_discard():
            return
        name, _ = QFileDialog.getOpenFileName(
            self.window, "Open document", str(self.window.app_settings.last_folder()), STUDIO_FILTER
        )
        if name:
            self.open_path(Path(name), confirm=False)

    def open_path(self, path: Path, *, confirm: bool = True) -> Future | None:
        """Open a `.studio` document (read on the history thread) at its newest revision; a missing or corrupt
        file leaves the current document as it is and shows why. None when the user kept the current document."""
        if confirm and not self.confirm_discard():
            return None
        path = Path(path)
        return self.window.history.open_file(path, done=self._opened,
                                             failed=lambda error: self._failed(error, title="Open document"))

    def _opened(self, log: DocumentLog, read: DocumentRead) -> None:
        self.show_read(read, path=log.path)
        self.window.history.activate(log)
        self._remember(log.path)
        self.window.show_status(f"Opened {log.path.name}")

    def recover(self, path: Path, lock: QLockFile) -> Future:
        """Show an autosave left behind by an app that did not close cleanly, as the untitled document."""
        return self.window.history.open_file(path, autosave=True, lock=lock, done=self._recovered,
                                             failed=lambda error: self._failed(error, title="Recover document"))

    def _recovered(self, log: DocumentLog, read: DocumentRead) -> None:
        self.show_read(read, path=None, modified=True)
        self.window.history.activate(log)
        self.window.show_status("Recovered the untitled document")

    def show_read(self, read: DocumentRead, *, path: Path | None, modified: bool = False) -> None:
        """Show a document read from the history (open, restore, branch switch) with its generation settings
        and, when it was opened, its gallery; its undo history starts empty."""
        self.window.recorder.show_settings(read.settings)
        self._show(read.document, path=path)
        if read.gallery is not None:
            self.window.gallery.replace(list(read.gallery))
        self._set_modified(modified)

    def save(self) -> Future | None:
        """A named document is saved already (every edit is logged as it happens): wait for the last ones.
        An untitled document asks for a name (Save As)."""
        if self.path is None:
            return self.save_as()
        self.window.recorder.flush()
        name = self.path.name
        return self.window.history.flush(done=lambda: self.window.show_status(f"All changes are in {name}"))

    def save_as(self) -> Future | None:
        start = str(self.path or self.window.app_settings.last_folder() / "Untitled.studio")
        name, _ = QFileDialog.getSaveFileName(self.window, "Save document as", start, STUDIO_FILTER)
        if not name:
            return None
        path = Path(name)
        if path.suffix != ".studio":
            path = path.with_suffix(".studio")
        return self.save_to(path)

    def save_to(self, path: Path, *, wait: bool = False) -> Future:
        """Copy the document's history to `path` on the history thread and keep logging there; on failure the
        document, its file and its path stay as they were and the message bar says why. `wait` blocks until
        done (used when closing)."""
        path = Path(path)
        self.window.document.finish_strokes()
        self.window.recorder.flush()
        fallback = None  # no autosave file (it could not be made): the new file starts from the document
        if self.window.history.current is None:
            fallback = (self.window.document.copy(), self.window.recorder.current_fields())
        if wait:
            future = self.window.history.save_as(path, done=None, failed=lambda _error: None, fallback=fallback)
            try:
                self._saved(future.result())
            except Exception as exc:  # noqa: BLE001 - shown to the user; the caller reads the future
                self._failed(exc, title="Save document")
            return future
        return self.window.history.save_as(path, done=self._saved, fallback=fallback,
                                           failed=lambda error: self._failed(error, title="Save document"))

    def _saved(self, log: DocumentLog) -> None:
        self.path = log.path
        self._set_modified(False)  # edits made while copying are logged into the new file
        self._remember(log.path)
        self.window.update_title()
        self.window.show_status(f"Saved {log.path.name}")

    def _failed(self, error: BaseException, *, title: str) -> None:
        self.window.report_error(describe_error(error, task=title), title=title)

    def confirm_discard(self) -> bool:
        """True when nothing would be lost (a named document is always saved), or the user saves the untitled
        document (and that worked) or drops it."""
        if not self.modified or not self.window.isVisible():
            return True
        answer = QMessageBox.question(
            self.window,
            "Unsaved changes",
            "The document has no name yet. Save it first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Save:
            start = str(self.window.app_settings.last_folder() / "Untitled.studio")
            name, _ = QFileDialog.getSaveFileName(self.window, "Save document as", start, STUDIO_FILTER)
            if not name:
                return False
            return self.save_to(Path(name).with_suffix(".studio"), wait=True).exception() is None
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

    # Restore and branches ------------------------------------------------------------------------
    def restore_revision(self, revision: int) -> Future:
        """Show the document as it was at `revision` and log a restore (a new branch; later revisions stay).
        The canvas's undo history starts again from the restored content."""
        self._finish_edits()
        return self.window.history.read_revision(revision, done=self._restored)

    def _restored(self, read: DocumentRead) -> None:
        self.show_read(read, path=self.path, modified=self.path is None)
        self.window.history.restore(read.revision, failed=self._fork_failed)
        self.window.show_status(f"Restored revision {read.revision} on a new branch")

    def switch_branch(self, name: str) -> Future:
        """Show the newest revision of branch `name` and log into that branch from now on."""
        self._finish_edits()
        return self.window.history.read_branch(name, done=lambda read: self._switched(read, name))

    def _switched(self, read: DocumentRead, name: str) -> None:
        self.show_read(read, path=self.path, modified=self.path is None)
        self.window.history.switch_branch(name, failed=self._fork_failed)
        self.window.show_status(f"Switched to branch {name}")

    def _finish_edits(self) -> None:
        self.window.document.finish_strokes()
        self.window.recorder.flush()

    def _fork_failed(self, error: BaseException) -> None:
        """The canvas shows another revision but the file did not follow: log the canvas as it is."""
        self._failed(error, title="History")
        self.window.recorder.log_snapshot()

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
