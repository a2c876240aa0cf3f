"""File commands of the window: new, open, save, save as, recent files, restore and branches, import, exports.

A `.studio` file is the document's history store and every edit is logged into it as it is made
(`ui.history.recorder`), so nothing waits for a "save": an untitled document logs into an autosave file, Save As
copies that history to a chosen path and logging continues there, Open shows the newest revision of a file.
All disk and SQLite work runs on the history thread (`ui.history.session`, `studio.app.document_storage`). Errors appear
through `AppContext.report_error` (the non-modal message bar), and nothing is lost: a failed Save As keeps
the document, its autosave and its path.
"""

from __future__ import annotations

from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np
from PySide6.QtCore import QLockFile, QObject, QRectF, Signal
from PySide6.QtGui import QImage, QKeySequence, QPainter
from PySide6.QtWidgets import QFileDialog, QMessageBox

from studio.app.document_storage import DocumentRead
from studio.app.errors import describe_error
from studio.document import Document, DocumentError
from studio.document.document import CONTROL_KINDS
from studio.document.openpose_json import dumps_openpose
from studio.document.picture_import import set_reference_picture
from studio.errors import StudioError
from studio.imageio import encode_png
from ui.common.commands import Command
from ui.common.images import qimage_to_rgb
from ui.dialogs.new_document import NewDocumentDialog
from ui.document.restore import show_in_place
from ui.history.session import DocumentLog

if TYPE_CHECKING:
    from studio.app.gallery import GalleryEntry
    from studio.app.generation_state import GenerationState
    from ui.canvas.view import CanvasView
    from ui.common.context import AppContext
    from ui.gallery.panel import GalleryPanel
    from ui.history.recorder import HistoryRecorder
    from ui.history.session import HistorySession

STUDIO_FILTER = "ControlNet Studio documents (*.studio)"
IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff)"


class DocumentFiles(QObject):
    """Owns the current file path and the modified flag (an untitled document with edits) of the window.

    `save_result(entry)` saves a gallery result (Export Image with one result selected).
    """

    path_changed = Signal(object)  # Path or None: the file the document is in now
    modified_changed = Signal(bool)  # an untitled document has edits (or not any more)
    recent_changed = Signal()  # the recent files list changed

    def __init__(self, context: "AppContext", *, history: "HistorySession", recorder: "HistoryRecorder",
                 view: "CanvasView", gallery_panel: "GalleryPanel",
                 save_result: Callable[["GalleryEntry"], None],
                 generation_state: "GenerationState | None" = None) -> None:
        super().__init__(context)
        self.generation_state = generation_state  # restores change it as part of their undo step
        self.context = context
        self.history = history
        self.recorder = recorder
        self.view = view
        self.gallery_panel = gallery_panel
        self.save_result = save_result
        self.path: Path | None = None
        self.modified = False
        self._unsubscribe = None

    def commands(self) -> list[Command]:
        """The File menu's document commands (the shell adds Open Recent after Open, and Quit)."""
        return [
            Command("new", "File", "&New…", self.new, shortcut=QKeySequence.StandardKey.New),
            Command("open", "File", "&Open…", self.open_dialog, shortcut=QKeySequence.StandardKey.Open),
            Command("save", "File", "&Save", self.save, shortcut=QKeySequence.StandardKey.Save, separator=True),
            Command("save_as", "File", "Save &As…", self.save_as, shortcut="Ctrl+Shift+S"),
            Command("import_image", "File", "&Import Reference Image…", self.import_image_dialog, shortcut="Ctrl+I",
                    tip="Put a picture on the reference layer for tracing", separator=True),
            Command("export_maps", "File", "Export &Control Maps…", self.export_control_maps_dialog,
                    shortcut="Ctrl+Shift+E", tip="Write the edge, pose and depth maps as PNG files"),
            Command("export_image", "File", "&Export Image…", self.export_image_dialog, shortcut="Ctrl+E",
                    tip="Save the selected result with its parameters, or the canvas"),
        ]

    def watch_new(self, document: Document) -> None:
        """Show `document` as a new untitled document, logged into a fresh autosave file."""
        self._show(document, path=None)
        self.context.gallery.replace([])
        self.history.start_untitled(document.copy(),
                                           settings=self.recorder.current_fields())

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
        self.modified_changed.emit(modified)

    # New / open / save ---------------------------------------------------------------------------
    def new(self, width: int | None = None, height: int | None = None) -> bool:
        """Start a new document; asks for the size when none is given."""
        if not self.confirm_discard():
            return False
        if width is None or height is None:
            dialog = NewDocumentDialog(self.context.widget)
            if not dialog.exec():
                return False
            width, height = dialog.size()
        try:
            document = Document(width, height)
        except DocumentError as exc:
            self.context.report_error(str(exc), title="New document")
            return False
        self.watch_new(document)
        return True

    def open_dialog(self) -> None:
        if not self.confirm_discard():
            return
        name, _ = QFileDialog.getOpenFileName(
            self.context.widget, "Open document", str(self.context.app_settings.last_folder()), STUDIO_FILTER
        )
        if name:
            self.open_path(Path(name), confirm=False)

    def open_path(self, path: Path, *, confirm: bool = True) -> Future | None:
        """Open a `.studio` document (read on the history thread) at its newest revision; a missing or corrupt
        file leaves the current document as it is and shows why. None when the user kept the current document."""
        if confirm and not self.confirm_discard():
            return None
        path = Path(path)
        return self.history.open_file(path, done=self._opened,
                                             failed=lambda error: self._failed(error, title="Open document"))

    def _opened(self, log: DocumentLog, read: DocumentRead) -> None:
        self.show_read(read, path=log.path)
        self.history.activate(log)
        self._remember(log.path)
        self.context.show_status(f"Opened {log.path.name}")

    def recover(self, path: Path, lock: QLockFile) -> Future:
        """Show an autosave left behind by an app that did not close cleanly, as the untitled document."""
        return self.history.open_file(path, autosave=True, lock=lock, done=self._recovered,
                                             failed=lambda error: self._failed(error, title="Recover document"))

    def _recovered(self, log: DocumentLog, read: DocumentRead) -> None:
        self.show_read(read, path=None, modified=True)
        self.history.activate(log)
        self.context.show_status("Recovered the untitled document")

    def show_read(self, read: DocumentRead, *, path: Path | None, modified: bool = False) -> None:
        """Show a document read from the history (open, restore, branch switch) with its generation settings
        and, when it was opened, its gallery; its undo history starts empty."""
        self.recorder.show_settings(read.settings)
        self._show(read.document, path=path)
        if read.gallery is not None:
            self.context.gallery.replace(list(read.gallery))
        self._set_modified(modified)

    def save(self) -> Future | None:
        """A named document is saved already (every edit is logged as it happens): wait for the last ones.
        An untitled document asks for a name (Save As)."""
        if self.path is None:
            return self.save_as()
        self.recorder.flush()
        name = self.path.name
        return self.history.flush(done=lambda: self.context.show_status(f"All changes are in {name}"))

    def save_as(self) -> Future | None:
        start = str(self.path or self.context.app_settings.last_folder() / "Untitled.studio")
        name, _ = QFileDialog.getSaveFileName(self.context.widget, "Save document as", start, STUDIO_FILTER)
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
        self.context.document.finish_strokes()
        self.recorder.flush()
        fallback = None  # no autosave file (it could not be made): the new file starts from the document
        if self.history.current is None:
            fallback = (self.context.document.copy(), self.recorder.current_fields())
        if wait:
            future = self.history.save_as(path, done=None, failed=lambda _error: None, fallback=fallback)
            try:
                self._saved(future.result())
            except Exception as exc:  # noqa: BLE001 - shown to the user; the caller reads the future
                self._failed(exc, title="Save document")
            return future
        return self.history.save_as(path, done=self._saved, fallback=fallback,
                                           failed=lambda error: self._failed(error, title="Save document"))

    def _saved(self, log: DocumentLog) -> None:
        self.path = log.path
        self._set_modified(False)  # edits made while copying are logged into the new file
        self._remember(log.path)
        self.path_changed.emit(self.path)
        self.context.show_status(f"Saved {log.path.name}")

    def _failed(self, error: BaseException, *, title: str) -> None:
        self.context.report_error(describe_error(error, task=title), title=title)

    def confirm_discard(self) -> bool:
        """True when nothing would be lost (a named document is always saved), or the user saves the untitled
        document (and that worked) or drops it."""
        if not self.modified or not self.context.widget.isVisible():
            return True
        answer = QMessageBox.question(
            self.context.widget,
            "Unsaved changes",
            "The document has no name yet. Save it first?",
            QMessageBox.StandardButton.Save | QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Save:
            start = str(self.context.app_settings.last_folder() / "Untitled.studio")
            name, _ = QFileDialog.getSaveFileName(self.context.widget, "Save document as", start, STUDIO_FILTER)
            if not name:
                return False
            return self.save_to(Path(name).with_suffix(".studio"), wait=True).exception() is None
        return answer == QMessageBox.StandardButton.Discard

    def _show(self, document: Document, *, path: Path | None) -> None:
        self.path = path
        self.context.set_document(document)
        self.path_changed.emit(path)
        self._watch(document)
        self._set_modified(False)

    def _remember(self, path: Path) -> None:
        self.context.app_settings.add_recent_file(path)
        self.context.app_settings.set_last_folder(path.parent)
        self.recent_changed.emit()

    # Restore and branches ------------------------------------------------------------------------
    def restore_revision(self, revision: int) -> Future:
        """Show the document as it was at `revision` and log a restore (a new branch; later revisions stay).
        Restoring is one undo step: Undo brings back what was shown before, and earlier steps stay."""
        self._finish_edits()
        return self.history.read_revision(revision, done=self._restored)

    def _restored(self, read: DocumentRead) -> None:
        kept = self._show_revision(read, label=f"Restore revision {read.revision}")
        self.history.restore(read.revision, failed=self._fork_failed)
        self.context.show_status(f"Restored revision {read.revision} on a new branch" + kept)

    def _show_revision(self, read: DocumentRead, *, label: str) -> str:
        """Show a revision as an undo step (`ui.document.restore`); what the status line adds about Undo."""
        if self.generation_state is not None and show_in_place(
                self.context.document, read, recorder=self.recorder, state=self.generation_state, label=label):
            self._set_modified(self.path is None)
            return " (Undo takes it back)"
        self.show_read(read, path=self.path, modified=self.path is None)
        return " (it has another size, so Undo starts again)"

    def switch_branch(self, name: str) -> Future:
        """Show the newest revision of branch `name` and log into that branch from now on."""
        self._finish_edits()
        return self.history.read_branch(name, done=lambda read: self._switched(read, name))

    def _switched(self, read: DocumentRead, name: str) -> None:
        kept = self._show_revision(read, label=f"Switch to branch {name}")
        self.history.switch_branch(name, failed=self._fork_failed)
        self.context.show_status(f"Switched to branch {name}" + kept)

    def _finish_edits(self) -> None:
        self.context.document.finish_strokes()
        self.recorder.flush()

    def _fork_failed(self, error: BaseException) -> None:
        """The canvas shows another revision but the file did not follow: log the canvas as it is."""
        self._failed(error, title="History")
        self.recorder.log_snapshot()

    # Import / export -----------------------------------------------------------------------------
    def import_image_dialog(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self.context.widget, "Import reference image", str(self.context.app_settings.last_folder()), IMAGE_FILTER
        )
        if name:
            self.import_image(Path(name))

    def import_image(self, path: Path) -> bool:
        """Put a picture on the reference layer (scaled to cover the canvas, centre cropped); one undo step."""
        try:
            set_reference_picture(self.context.document, path)
        except StudioError as exc:
            self.context.report_error(str(exc), title="Import image")
            return False
        self.context.app_settings.set_last_folder(Path(path).parent)
        return True

    def export_control_maps_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self.context.widget, "Export control maps to folder", str(self.context.app_settings.last_folder())
        )
        if folder:
            self.export_control_maps(Path(folder))

    def export_control_maps(self, folder: Path) -> list[Path]:
        """Write edge.png, pose.png, depth.png (the exact ControlNet inputs) and pose.json into `folder`."""
        document = self.context.document
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
            self.context.report_error(f"Could not export the control maps to {folder} ({exc}).", title="Export")
            return written
        self.context.show_status(f"Exported {len(written)} files to {folder}")
        return written

    def export_image_dialog(self) -> None:
        """Save the selected gallery result with its parameters, or else the canvas as seen."""
        selected = self.gallery_panel.selected_entries()
        if len(selected) == 1:
            self.save_result(selected[0])
            return
        name, _ = QFileDialog.getSaveFileName(
            self.context.widget, "Export canvas image", str(self.context.app_settings.last_folder() / "canvas.png"),
            "PNG images (*.png)",
        )
        if name:
            self.export_canvas(Path(name))

    def export_canvas(self, path: Path) -> bool:
        """Save the visible layers, composited as on the canvas, at document size."""
        try:
            path.write_bytes(encode_png(self.render_canvas()))
        except OSError as exc:
            self.context.report_error(f"Could not write {path} ({exc}).", title="Export image")
            return False
        return True

    def render_canvas(self) -> np.ndarray:
        """The visible layers composited over black at document size, as HxWx3 RGB."""
        document = self.context.document
        image = QImage(document.width, document.height, QImage.Format.Format_RGB32)
        image.fill(0)
        painter = QPainter(image)
        with self.view.overlays_hidden():
            rect = QRectF(0, 0, document.width, document.height)
            self.view.scene().render(painter, rect, rect)
        painter.end()
        return qimage_to_rgb(image)
