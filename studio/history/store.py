"""`HistoryStore`: the history of one document, kept in the document file itself (`name.studio`).

Typical use from the UI::

    store = HistoryStore.open("poster.studio", create=True)
    store.append(stroke_event("edge", x=10, y=20, patch=pixels))  # returns a Future at once
    store.append(setting_event("prompt", "a red fox"))            # typing: merged with the previous edit
    state = store.state_at()                                      # document at the current head
    for revision in store.revisions():                            # history panel (thumbnails are blob hashes)
        ...
    store.restore(revision_id).result()                           # new branch from an old revision
    store.close()

Writing: `append`, `restore`, `branch`, `switch_branch`, `feedback` queue a job for the writer thread and return a
`concurrent.futures.Future` immediately; the GUI thread never waits on disk. The future resolves with `Appended`
once the event is committed (an acknowledgement: it survives a crash) or with a HistoryError. Done-callbacks run
on the writer thread; post them to the GUI thread (ui/bridge) before touching widgets. `flush()` waits until
everything queued is committed.

Reading: every method below `# -- reads` may be called from any thread; each thread gets its own read-only
connection, and reads do not wait for the writer.

Durability (`schema.DURABILITY`): with the default "crash" an acknowledged event survives a process crash at once
and a power cut within a second; "full" makes it survive a power cut at once (an fsync per commit, slower).
"""

from __future__ import annotations

import functools
import os
import sqlite3
import threading
import time
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np

import studio
from studio.history import events as ev
from studio.history import reads
from studio.history.blobs import decode_json, decode_png
from studio.history.checkpoints import state_at, write_root_checkpoint
from studio.history.errors import HistoryError
from studio.history.files import link_new, remove_leftovers, temp_path
from studio.history.lock import DocumentInUseError, DocumentLock, Holder
from studio.history.migrations import migrate
from studio.history.rows import (
    CURRENT_BRANCH, MAIN_BRANCH, add_event, add_revision, create_branch, payload_text, set_meta,
)
from studio.history.schema import (
    DEFAULT_DURABILITY, DURABILITY, SCHEMA_VERSION, connect, create_tables, fts5_available, probe,
)
from studio.history.state import DocumentState
from studio.history.writer import Writer

DEFAULT_COALESCE_WINDOW = 2.0  # seconds: edits of one field closer than this merge into one event
MAX_BRANCH_NAME = 100


def _create_file(path: Path, *, fts: bool) -> bool:
    """Write a new, complete document and give it the name `path` only if that name is still free (built next
    to it, then hard-linked into place: `files.link_new`). False when another process took the name first."""
    temp = temp_path(path)
    try:
        conn = sqlite3.connect(temp, isolation_level=None)
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("BEGIN")
            create_tables(conn, fts=fts)
            now = time.time()
            branch = create_branch(conn, name=MAIN_BRANCH, head=1, forked_from=None, time=now)
            revision = add_revision(conn, parent=None, branch=branch, time=now, thumbnail=None)
            add_event(conn, time=now, updated=now, kind=ev.CREATED, revision=revision, text=None,
                      payload=payload_text({"studio_version": studio.__version__}))
            write_root_checkpoint(conn, revision)
            set_meta(conn, CURRENT_BRANCH, str(branch))
            set_meta(conn, "created", str(now))
            conn.execute("COMMIT")
        finally:
            conn.close()
        return link_new(temp, path)
    except sqlite3.Error as exc:
        raise HistoryError(f"The document {path} could not be created ({exc}).") from exc
    finally:
        temp.unlink(missing_ok=True)


class HistoryStore:
    """The history store of one document file. Use `HistoryStore.open` or `HistoryStore.create`."""

    def __init__(self, path: Path, *, readonly: bool, coalesce_window: float, durability: str,
                 lock: bool = False) -> None:
        self.path = path
        self.held_by: Holder | None = None  # who holds the document when `lock=True` found it taken
        self._lock: DocumentLock | None = None
        if lock and not readonly:
            try:
                self._lock = DocumentLock.acquire(path)
            except DocumentInUseError as exc:
                readonly = True
                self.held_by = exc.holder or Holder(0, "?", "?", "another program", time.time())
        self.readonly = readonly
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._readers_lock = threading.Lock()
        try:
            self._writer = None if readonly else Writer(path, coalesce_window=coalesce_window, durability=durability)
        except BaseException:
            if self._lock is not None:
                self._lock.release()
            raise

    @classmethod
    def create(cls, path: str | os.PathLike, *, coalesce_window: float = DEFAULT_COALESCE_WINDOW,
               durability: str = DEFAULT_DURABILITY, fts: bool | None = None, lock: bool = False) -> HistoryStore:
        """Create a new document at `path` (it must not exist). `durability`: see `schema.DURABILITY`;
        `fts` None: full-text search when sqlite3 has FTS5; `lock`: see `open`."""
        if durability not in DURABILITY:
            raise HistoryError(f"Unknown durability {durability!r}; use one of: {', '.join(DURABILITY)}.")
        path = Path(path)
        if path.exists():
            raise HistoryError(f"The document {path} already exists.")
        if not path.parent.is_dir():
            raise HistoryError(f"The folder {path.parent} does not exist.")
        remove_leftovers(path.parent)
        if not _create_file(path, fts=fts5_available() if fts is None else fts):
            raise HistoryError(f"The document {path} already exists (another program created it just now).")
        return cls(path, readonly=False, coalesce_window=coalesce_window, durability=durability, lock=lock)

    @classmethod
    def open(cls, path: str | os.PathLike, *, readonly: bool = False, create: bool = False,
             coalesce_window: float = DEFAULT_COALESCE_WINDOW, durability: str = DEFAULT_DURABILITY,
             lock: bool = False) -> HistoryStore:
        """Open a document; older schemas are upgraded (not in read-only mode). Files that are not ours or
        come from a newer version raise a StudioError and are not touched. `create`: make it when missing (when
        another process creates it at the same moment, the file that won is opened). `lock` (windows): take the
        document's lock (`studio.history.lock`); when someone else holds it the store opens read-only and
        `held_by` says who (`held_by.sentence(path)` is the message to show)."""
        path = Path(path)
        if create and not path.exists():
            if durability not in DURABILITY:
                raise HistoryError(f"Unknown durability {durability!r}; use one of: {', '.join(DURABILITY)}.")
            if not path.parent.is_dir():
                raise HistoryError(f"The folder {path.parent} does not exist.")
            remove_leftovers(path.parent)
            if _create_file(path, fts=fts5_available()):
                return cls(path, readonly=False, coalesce_window=coalesce_window, durability=durability, lock=lock)
            # another process created it meanwhile: open the file that won
        version = probe(path)
        if version < SCHEMA_VERSION:
            if readonly:
                raise HistoryError(
                    f"{path} uses history schema {version}; open it once for writing to upgrade it to {SCHEMA_VERSION}."
                )
            migrate(path, version)
        return cls(path, readonly=readonly, coalesce_window=coalesce_window, durability=durability, lock=lock)

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        """Commit everything queued, stop the writer and close all connections (WAL folded into the file)."""
        with self._readers_lock:  # readers first: the last connection to close folds the WAL into the file
            for conn in self._readers:
                conn.close()
            self._readers.clear()
            self._local = threading.local()
        if self._writer is not None:
            self._writer.close()
        if self._lock is not None:
            self._lock.release()
            self._lock = None

    # -- writes (asynchronous) ------------------------------------------------------------------------------
    def _require_writer(self) -> Writer:
        if self._writer is None:
            raise HistoryError(f"{self.path} is open read-only.")
        return self._writer

    def append(self, event: ev.NewEvent) -> Future:
        """Queue an event (made with the constructors of `studio.history.events`); Future[Appended]."""
        writer = self._require_writer()
        ev.validate_payload(event.kind, event.payload)
        if event.kind not in ev.APPENDABLE:
            raise HistoryError(f"Events of kind {event.kind!r} cannot be appended directly.")
        return writer.append(event, text=payload_text(event.payload), time=time.time())

    def feedback(self, generation: int, *, verdict: str | None = None, rating: int | None = None,
                 comment: str | None = None, result: int | None = None) -> Future:
        """Record accept/reject, a 1-5 star rating and/or a comment on a generation (or one of its results)."""
        return self.append(ev.feedback_event(generation, verdict=verdict, rating=rating, comment=comment,
                                             result=result))

    def restore(self, revision: int, *, branch: str | None = None) -> Future:
        """Go back to `revision`: a new branch (named `branch` or "restore-<revision>") starts with a restore
        revision whose parent is `revision` and becomes current. Later revisions stay. Future[Appended]."""
        return self._require_writer().fork(kind=ev.RESTORE, revision=revision, name=_branch_name(branch),
                                           time=time.time())

    def branch(self, name: str, *, at: int | None = None) -> Future:
        """Start branch `name` at revision `at` (default: the current head) and make it current."""
        if name is None:
            raise HistoryError("A new branch needs a name.")
        return self._require_writer().fork(kind=ev.BRANCH, revision=at, name=_branch_name(name), time=time.time())

    def switch_branch(self, name: str) -> Future:
        """Make branch `name` current: new events go to its head."""
        return self._require_writer().switch(name)

    def flush(self, timeout: float | None = None) -> None:
        """Block until every event queued before this call is committed (or failed)."""
        self._require_writer().barrier().result(timeout)

    # -- reads (any thread) ---------------------------------------------------------------------------------
    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, readonly=True)
            with self._readers_lock:
                self._readers.append(conn)
            self._local.conn = conn
        return conn

    @contextmanager
    def read_transaction(self) -> Iterator[sqlite3.Connection]:
        """This thread's read connection inside one transaction: a consistent view for bulk readers (export,
        check) while the writer goes on. A damaged file raises HistoryError (`damaged_error`)."""
        conn = self._conn()
        try:
            conn.execute("BEGIN")
        except sqlite3.DatabaseError as exc:
            raise damaged_error(self.path, exc) from exc
        try:
            yield conn
        except sqlite3.DatabaseError as exc:
            raise damaged_error(self.path, exc) from exc
        finally:
            try:
                conn.execute("COMMIT")
            except sqlite3.DatabaseError:
                pass

    def head(self) -> reads.Revision:
        """The newest revision of the current branch."""
        return reads.get_revision(self._conn(), reads.current_branch(self._conn()).head)

    def current_branch(self) -> reads.Branch:
        return reads.current_branch(self._conn())

    def branches(self) -> list[reads.Branch]:
        return reads.list_branches(self._conn())

    def revision(self, revision: int) -> reads.Revision:
        return reads.get_revision(self._conn(), revision)

    def revisions(self, *, branch: str | None = None) -> list[reads.Revision]:
        """Revisions oldest first (of one branch, or all) with their event kind and thumbnail hash."""
        return reads.list_revisions(self._conn(), branch=branch)

    def thumbnail(self, revision: int) -> bytes | None:
        """PNG bytes of the thumbnail of `revision` or of its nearest ancestor that has one."""
        hash_ = reads.nearest_thumbnail(self._conn(), revision)
        return None if hash_ is None else self.blob(hash_)

    def events(self, *, kinds: Iterable[str] | None = None, since: float | None = None, until: float | None = None,
               text: str | None = None, branch: str | None = None, limit: int | None = None,
               newest_first: bool = False) -> list[reads.Event]:
        """Events filtered by kinds, time range (Unix seconds), text (prompts, chat, comments) and branch."""
        return reads.list_events(self._conn(), kinds=kinds, since=since, until=until, text=text, branch=branch,
                                 limit=limit, newest_first=newest_first)

    def event(self, event_id: int) -> reads.Event:
        return reads.get_event(self._conn(), event_id)

    def generations(self) -> list[reads.Generation]:
        return reads.list_generations(self._conn())

    def generation(self, generation: int) -> reads.Generation:
        return reads.get_generation(self._conn(), generation)

    def state_at(self, revision: int | None = None) -> DocumentState:
        """The document state at `revision` (default: the head of the current branch)."""
        conn = self._conn()
        if revision is None:
            revision = reads.current_branch(conn).head
        return state_at(conn, revision)[0]

    def blob(self, hash_: str) -> bytes:
        """Raw bytes of a blob (PNG file or JSON text)."""
        return reads.read_blob(self._conn(), hash_)

    def image(self, hash_: str) -> np.ndarray:
        """Pixels of a PNG blob (results, control images, thumbnails)."""
        return decode_png(self.blob(hash_))

    def json_blob(self, hash_: str) -> Any:
        return decode_json(self.blob(hash_))

    @property
    def schema_version(self) -> int:
        return int(self._conn().execute("PRAGMA user_version").fetchone()[0])


def damaged_error(path: Path, exc: sqlite3.DatabaseError) -> HistoryError:
    """The one sentence for a read that hit a damaged file."""
    return HistoryError(f"{path} is damaged and could not be read ({exc}); run `studio history check {path}` "
                        f"to see what is wrong and `studio history salvage {path} --out NEW.studio` to copy "
                        "out every event that still reads.")


def _reading(method):
    """Wrap a read method: sqlite3.DatabaseError (a damaged page) becomes `damaged_error`."""
    @functools.wraps(method)
    def read(self, *args, **kwargs):
        try:
            return method(self, *args, **kwargs)
        except sqlite3.DatabaseError as exc:
            raise damaged_error(self.path, exc) from exc
    return read


for _name in ("head", "current_branch", "branches", "revision", "revisions", "thumbnail", "events", "event",
              "generations", "generation", "state_at", "blob", "image", "json_blob"):
    setattr(HistoryStore, _name, _reading(getattr(HistoryStore, _name)))


def _branch_name(name: str | None) -> str | None:
    if name is None:
        return None
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_BRANCH_NAME:
        raise HistoryError(f"A branch name must be 1 to {MAX_BRANCH_NAME} characters, not {name!r}.")
    return name.strip()
