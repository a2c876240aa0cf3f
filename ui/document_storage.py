"""The one place where `.studio` documents are written and read (through the history store).

A `.studio` file is the document's history store (`studio.history`): saving logs a snapshot of the whole
document into it, opening rebuilds the document at the head of its current branch. Both run on a worker
thread (they touch SQLite), never on the GUI thread.
"""

from __future__ import annotations

import os
from pathlib import Path

from studio.document import Document
from studio.history.record import document_at, snapshot_document
from studio.history.store import HistoryStore


def detached_copy(document: Document) -> Document:
    """A copy of `document` sharing nothing mutable with it (made on the GUI thread, saved on the file thread,
    so edits made during the save cannot tear the snapshot)."""
    copy = Document(document.width, document.height)
    copy.edge.replace_data(document.edge.data, "Copy")
    copy.depth.replace_data(document.depth.data, "Copy")
    copy.pose.set_people(document.pose.people)  # people are immutable
    if document.reference.image is not None:
        copy.reference.set_image(document.reference.image)
    for layer in document.layers:
        copy.layer(layer.name).set_properties(layer.properties())
    copy.history.clear()
    return copy


def save_document(document: Document, path: Path, *, replace: bool) -> Path:
    """Log `document` into the store at `path`.

    replace False (Save): add a snapshot to the store already there (its history is kept), or create it.
    replace True (Save As): build a new store beside `path` and move it over any file there, so an existing
    file is either fully replaced or left as it was.
    """
    path = Path(path)
    if path.exists() and not replace:
        with HistoryStore.open(path) as store:
            snapshot_document(store, document).result()
        return path
    temp = path.with_name(f".{path.name}.{os.getpid()}.saving")
    temp.unlink(missing_ok=True)
    try:
        with HistoryStore.create(temp) as store:
            snapshot_document(store, document).result()
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
    return path


def load_document(path: Path) -> Document:
    """The document at the head of the store at `path` (with an empty undo history); older files are upgraded."""
    with HistoryStore.open(path) as store:
        return document_at(store)
