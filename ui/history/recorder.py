"""Logs the designer's work into the document's history store while they work, without blocking the GUI.

What becomes an event, and when:
- Canvas edits: the document's change events are gathered per layer (the union of the changed boxes for edge
  and depth) and logged when the edit is finished, i.e. when the core's undo history reports a push, an undo or
  a redo. A stroke is one `stroke` event with the stroke's box, a pose drag one `pose` event, never one per dab.
  Undo and redo are logged as the edits that yield the earlier (or later) content: the history is append-only.
  Edits that report their pixels just after their undo step (replacing a whole layer) are logged on the next
  turn of the event loop, or before the next settings/feedback/chat event, whichever comes first.
- Layer properties (visible, opacity, locked) are not undo steps: they are logged `PROPERTY_DELAY_MS` after the
  last change (a slider drag is one event), or with the next edit.
- Generation settings: one `setting` event per changed field; the store merges fast typing into one event, and
  consecutive changes of number and choice fields into one revision (`studio.history.setting_groups`).
- Generations (`log_generation`, when a run ends; encoded on the history thread), gallery star/reject
  (`feedback`), history panel feedback (`log_feedback`) and chat turns (`log_chat_turn`, for the chat panel).

On the GUI thread the recorder only copies what the events need (`capture_change`, `capture_preview`: copies of
the changed box and a strided sample for the thumbnail); encoding and SQLite run on the history thread.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import Future
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Mapping, Sequence

from PySide6.QtCore import QObject, QTimer

from studio.document import Document
from studio.document.events import PIXELS, PROPERTY, ChangeEvent
from studio.document.history import HistoryEvent
from studio.document.raster import union_region
from studio.history import events as ev
from studio.app.gallery import Gallery, GalleryEntry
from studio.history.record import CapturedChange, capture_change, generation_event_for, snapshot_document
from studio.app.history_images import Preview, capture_preview, preview_thumbnail
from ui.history.session import HistorySession
from studio.app.history_settings import settings_fields, settings_with_fields
from ui.generate.panel import GeneratePanel

PROPERTY_DELAY_MS = 500
RASTER_LAYERS = ("edge", "depth", "mask")
GALLERY_VERDICTS = {"starred": "accept", "rejected": "reject"}
_MISSING = object()


def _events(captures: Sequence[CapturedChange], preview: Preview | None) -> list[ev.NewEvent]:
    """History thread: encode the captured changes; content changes carry the new thumbnail (one blob)."""
    events = [capture.to_event() for capture in captures]
    if preview is None:
        return events
    thumbnail = preview_thumbnail(preview)
    return [event if capture.kind == PROPERTY else dataclasses.replace(event, thumbnail=thumbnail)
            for event, capture in zip(events, captures)]


class HistoryRecorder(QObject):
    """Turns the window's edits, settings, generations and feedback into history events."""

    def __init__(self, session: HistorySession, *, panel: GeneratePanel, gallery: Gallery,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.panel = panel
        self.document: Document | None = None
        self._unsubscribe: list[Callable[[], None]] = []
        self._pending: dict[tuple[str, str, str | None], tuple[int, int, int, int] | None] = {}
        self._fields: dict[str, Any] = {}
        self._applying = False
        self._suspended = False  # inside `not_logging`
        self._property_timer = QTimer(self)
        self._property_timer.setSingleShot(True)
        self._property_timer.setInterval(PROPERTY_DELAY_MS)
        self._property_timer.timeout.connect(lambda: self._flush(lambda key: key[1] == PROPERTY))
        self._late_timer = QTimer(self)
        self._late_timer.setSingleShot(True)
        self._late_timer.setInterval(0)
        self._late_timer.timeout.connect(self._flush_finished)
        panel.settings_changed.connect(self._settings_changed)
        gallery.rated.connect(self._rating_changed)
        gallery.history_attached.connect(self._history_attached)

    # Document edits ------------------------------------------------------------------------------
    def bind(self, document: Document) -> None:
        """Log the edits of `document` from now on (the edits of the previous one are logged first)."""
        self.flush()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self.document = document
        self._unsubscribe = [document.subscribe(self._changed), document.history.subscribe(self._history_event)]

    @contextmanager
    def not_logging(self) -> Iterator[None]:
        """Edits made inside are in the history file already (a restored revision): they are not logged."""
        self.flush()
        self._suspended = True
        try:
            yield
        finally:
            self._suspended = False
            self._pending.clear()
            self._property_timer.stop()

    def _changed(self, change: ChangeEvent) -> None:
        if self._suspended:
            return
        key = (change.layer, change.kind, change.prop)
        region = change.region
        if change.kind == PIXELS and change.layer in RASTER_LAYERS:
            region = region or (0, 0, self.document.width, self.document.height)
            if key in self._pending:
                region = union_region(self._pending[key], region)
        self._pending[key] = region
        if change.kind == PROPERTY:
            self._property_timer.start()

    def _history_event(self, event: HistoryEvent) -> None:
        if self._suspended:
            return
        if event.action in ("undo", "redo"):  # its changes are pending now: they are labelled "Undo: <step>"
            label = event.step.label if event.step is not None else ""
            self._property_timer.stop()
            self._flush(lambda _key: True, undo={"action": event.action, "step": label})
        if event.action in ("push", "undo", "redo"):
            self.flush()
            self._late_timer.start()

    def flush(self) -> None:
        """Log every change gathered so far (finished edits, pending property changes)."""
        self._property_timer.stop()
        self._flush(lambda _key: True)

    def _flush_finished(self) -> None:
        """Log content changes that are not part of a stroke in progress."""
        document = self.document
        if document is not None and not any(document.layer(name).stroke_active for name in RASTER_LAYERS):
            self._flush(lambda key: key[1] != PROPERTY)

    def _flush(self, which: Callable[[tuple[str, str, str | None]], bool],
               undo: dict[str, str] | None = None) -> None:
        document = self.document
        keys = [key for key in self._pending if which(key)]
        if document is None or not keys:
            return
        captures = [dataclasses.replace(capture_change(document, ChangeEvent(
            layer, kind, self._pending.pop((layer, kind, prop)), prop)), undo=undo) for layer, kind, prop in keys]
        preview = capture_preview(document) if any(c.kind != PROPERTY for c in captures) else None
        self.session.append(lambda: _events(captures, preview))

    def log_snapshot(self) -> Future:
        """Log the whole document and the settings (when the file must be brought back in line with the canvas)."""
        self.flush()
        copy, fields = self.document.copy(), self.current_fields()
        return self.session.submit(lambda: snapshot_document(self.session.store, copy, settings=fields))

    # Generation settings -------------------------------------------------------------------------
    def current_fields(self) -> dict[str, Any]:
        """The panel's settings as history fields; they become the baseline later changes are compared with."""
        self._fields = settings_fields(self.panel.settings())
        return dict(self._fields)

    def show_settings(self, fields: Mapping[str, Any]) -> None:
        """Show recorded settings in the panel without logging them again (open, restore, branch switch)."""
        settings = settings_with_fields(self.panel.settings(), dict(fields))
        self._applying = True
        try:
            self.panel.set_settings(settings)
        finally:
            self._applying = False
        self.current_fields()

    def _settings_changed(self) -> None:
        if self._applying:
            return
        self._flush_finished()
        fields = settings_fields(self.panel.settings())
        changed = [(name, value) for name, value in fields.items() if self._fields.get(name, _MISSING) != value]
        self._fields = fields
        for name, value in changed:  # number and choice fields changed one after another: one revision
            self.session.append(ev.setting_event(name, value, group=name not in ev.TEXT_SETTINGS))

    # Generations, feedback, chat -----------------------------------------------------------------
    def log_generation(self, request, *, result=None, error: BaseException | None = None,
                       on_logged: Callable[[int], None] | None = None) -> Future:
        """Log a finished, cancelled (`result`) or failed (`error`) generation with its request, control images,
        results and timings. The images are encoded on the history thread; `on_logged(event id)` runs on the
        GUI thread once the event is in the file (never, when it could not be logged: the window says why and
        the generation itself is not affected)."""
        self._flush_finished()
        on_committed = None if on_logged is None else (lambda appended: on_logged(appended.event))
        return self.session.append(lambda: generation_event_for(request, result=result, error=error),
                                   on_committed=on_committed)

    def log_feedback(self, generation: int, *, result: int | None = None, verdict: str | None = None,
                     rating: int | None = None, comment: str | None = None,
                     on_committed: Callable[[Any], None] | None = None) -> Future:
        """Accept/reject, a 1-5 rating and/or a comment on a generation (event id) or one of its results."""
        event = ev.feedback_event(generation, verdict=verdict, rating=rating, comment=comment, result=result)
        self._flush_finished()
        return self.session.append(event, on_committed=on_committed)

    def log_chat_turn(self, *, message: str, reply: str, tool_calls: Sequence[Mapping[str, Any]] = (),
                      applied: bool = False, on_committed: Callable[[Any], None] | None = None) -> Future:
        """One assistant turn: the user's message, the reply, tool calls ({name, args, result}) and whether the
        reply's fields were applied."""
        event = ev.chat_event(message=message, reply=reply, tool_calls=tool_calls, applied=applied)
        self._flush_finished()
        return self.session.append(event, on_committed=on_committed)

    def _rating_changed(self, entry: GalleryEntry) -> None:
        verdict = GALLERY_VERDICTS.get(entry.rating)
        if entry.history_id is not None and verdict is not None:
            self.log_feedback(entry.history_id, result=entry.index_in_batch, verdict=verdict)

    def _history_attached(self, entries: list[GalleryEntry]) -> None:
        """Ratings given before the generation was in the file are logged now."""
        for entry in entries:
            self._rating_changed(entry)
