"""What the window's controllers share, instead of the window itself: the `AppContext`.

It holds the current document (`document_changed` when another one is shown), the status and error signals the
shell shows, the job runner, the paths and settings, the engine service and the gallery model. Controllers take
the context and the panels they drive; only the shell (`ui.shell.main_window`) knows every part. `widget` is the
window as a plain QWidget: dialogs are parented to it, nothing else is read from it.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from studio.app.gallery import Gallery
from studio.app.paths import AppPaths
from studio.document import Document
from studio.engine.service import EngineClient
from ui.common.settings import AppSettings
from ui.common.workers import JobRunner


class AppContext(QObject):
    """The application's shared state and services (see the module docstring). GUI thread only."""

    document_changed = Signal(object)  # Document: now shown in the window
    status = Signal(str, int)  # text, milliseconds: a passing note in the status bar
    error = Signal(str, object)  # text, title or None: shown in the message bar above the canvas
    notice = Signal(str)  # text: information the designer should read (shown in the message bar, not an error)
    panel_requested = Signal(str)  # the dock of this name should come to the front

    def __init__(self, *, widget: QWidget, app_settings: AppSettings, paths: AppPaths, engine: EngineClient,
                 runner: JobRunner, gallery: Gallery) -> None:
        super().__init__(widget)
        self.widget = widget
        self.app_settings = app_settings
        self.paths = paths
        self.engine = engine
        self.runner = runner
        self.gallery = gallery
        self.document: Document | None = None

    def set_document(self, document: Document) -> None:
        self.document = document
        self.document_changed.emit(document)

    def show_status(self, text: str, msecs: int = 6000) -> None:
        self.status.emit(text, msecs)

    def report_error(self, text: str, *, title: str | None = None) -> None:
        self.error.emit(text, title)

    def show_notice(self, text: str) -> None:
        self.notice.emit(text)

    def raise_panel(self, name: str) -> None:
        self.panel_requested.emit(name)
