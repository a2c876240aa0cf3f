"""The one place where `.studio` documents are created, opened, copied and removed.

A `.studio` file is the document's history store (`studio.history`). Every edit is logged into it while the
designer works (`ui.history.recorder`), so there is no separate "save" of the content: an untitled document
logs into an autosave file in the user's data folder, Save As copies that store to the chosen path (SQLite
backup) and logging goes on in the copy, Open shows the newest revision of a store.

Everything here touches SQLite or the disk: it runs on the history thread (`ui.history.session`), never on the
GUI thread.
"""

from __future__ import annotations

import dataclasses
import itertools
import os
import sqlite3
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.app.gallery import GalleryEntry
from studio.app.gallery_store import load_gallery
from studio.document import Document
from studio.history import events as ev
from studio.history.errors import HistoryError
from studio.history.record import document_at, snapshot_document
from studio.history.schema import connect
from studio.history.store import HistoryStore

STUDIO_SUFFIX = ".studio"
_names = itertools.count(1)


@dataclass(frozen=True)
class DocumentRead:
    """A document rebuilt from a store at `revision`, with the generation settings recorded up to there and
    (when the file was opened) its gallery: the results of every generation logged in it."""

    document: Document
    settings: dict[str, Any]
    revision: int
    gallery: tuple[GalleryEntry, ...] | None = None  # None: not read (restore, branch switch keep the gallery)


@dataclass(frozen=True)
class StoreSummary:
    """What the recovery question says about an autosave: its edits (events after the first snapshot) and when
    it was last written."""

    path: Path
    edits: int
    last_edit: float


def new_autosave_path(folder: Path) -> Path:
    """A fresh file name for an untitled document in `folder` (created if missing)."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    while True:
        path = folder / f"untitled-{stamp}-{os.getpid()}-{next(_names)}{STUDIO_SUFFIX}"
        if not path.exists():
            return path


def create_document(path: Path, document: Document, *, settings: dict[str, Any]) -> HistoryStore:
    """A new store at `path` holding a snapshot of `document` (a detached copy) and the generation settings."""
    store = HistoryStore.create(path)
    try:
        snapshot_document(store, document, settings=settings).result()
    except BaseException:
        store.close()
        remove_document(path)
        raise
    return store


def read_document(store: HistoryStore, revision: int | None = None) -> DocumentRead:
    """The document and settings at `revision` (default: the head of the current branch) after everything
    queued so far is written."""
    store.flush()
    state = store.state_at(revision)
    return DocumentRead(document=document_at(store, state.revision), settings=dict(state.settings),
                        revision=state.revision)


def read_branch_head(store: HistoryStore, name: str) -> DocumentRead:
    """The document at the head of branch `name` (the branch is not made current here)."""
    store.flush()
    for branch in store.branches():
        if branch.name == name:
            return read_document(store, branch.head)
    raise HistoryError(f"There is no branch named {name!r}.")


def open_document(path: Path) -> tuple[HistoryStore, DocumentRead]:
    """Open the store at `path` for logging and read its newest revision and its gallery; a bad file raises a
    StudioError and is left as it was."""
    store = HistoryStore.open(path)
    try:
        read = read_document(store)
        return store, dataclasses.replace(read, gallery=tuple(load_gallery(store)))
    except BaseException:
        store.close()
        raise


def copy_document(store: HistoryStore, target: Path) -> HistoryStore:
    """Save As: write everything queued, copy the store to `target` with SQLite's backup API (into a temporary
    file beside it, then moved over, so an existing file is either fully replaced or untouched) and open the
    copy. The original store stays open and unchanged."""
    target = Path(target)
    if not target.parent.is_dir():
        raise HistoryError(f"The folder {target.parent} does not exist.")
    store.flush()
    temp = target.with_name(f".{target.name}.{os.getpid()}.saving")
    temp.unlink(missing_ok=True)
    try:
        with closing(connect(store.path, readonly=True)) as source, closing(sqlite3.connect(temp)) as copy:
            source.backup(copy)
        os.replace(temp, target)
    except sqlite3.Error as exc:
        raise HistoryError(f"Could not write {target} ({exc}).") from exc
    finally:
        temp.unlink(missing_ok=True)
    for suffix in ("-wal", "-shm"):  # left by an earlier document at this path; they belong to the old file
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    return HistoryStore.open(target)


def remove_document(path: Path) -> None:
    """Delete a store file and its SQLite side files (an autosave that is no longer needed)."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def autosaved_documents(folder: Path) -> list[Path]:
    """The store files in the autosave folder, newest first."""
    if not folder.is_dir():
        return []
    paths = [path for path in folder.glob(f"*{STUDIO_SUFFIX}") if path.is_file()]
    return sorted(paths, key=lambda path: path.stat().st_mtime, reverse=True)


def summarize_document(path: Path) -> StoreSummary:
    """Count the edits of a store (events after its first snapshot) without changing it."""
    with HistoryStore.open(path, readonly=True) as store:
        events = store.events()
    edits = [event for event in events if event.kind not in (ev.CREATED,)]
    if edits and edits[0].kind == ev.SNAPSHOT:
        edits = edits[1:]
    return StoreSummary(path=path, edits=len(edits), last_edit=max((e.updated for e in events), default=0.0))
