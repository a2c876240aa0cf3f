"""The writer thread: the only place that writes events. Callers queue jobs and get futures back.

`append` on the GUI thread only validates and queues (microseconds); the thread takes every queued job, writes
them in ONE transaction (a SAVEPOINT per job, so a bad event fails alone), commits, and then resolves the
futures: a resolved future (an acknowledgement) means the event is committed to the WAL and survives a
process crash; a power cut as `schema.DURABILITY` says (the default "crash": within `background.SYNC_SECONDS`).
Heavy work (PNG encoding of images) happens before queueing, in the caller's thread.

A full disk fails the edits that could not be saved with DiskFullError (the first of an episode with
`repeat=False`, so it is reported once) and asks the helper to fold the WAL; acknowledged edits are kept and
editing goes on once space is freed.

The thread keeps the document state at the head of the current branch in memory. It checks each event against
it before writing (a stroke outside the canvas is refused). Every `CHECKPOINT_INTERVAL` events it hands a copy
of that state to the helper thread (`background`), which encodes it and queues a checkpoint job back; the helper
also folds the WAL into the file, so neither slow part delays acknowledgements.
"""

from __future__ import annotations

import os
import queue
import sqlite3
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.history import events as ev
from studio.history.background import WAL_SIZE_LIMIT, BackgroundWork
from studio.history.checkpoints import insert_checkpoint, state_at
from studio.history.errors import DiskFullError, HistoryError
from studio.history.reads import DbBlobSource, current_branch, get_event, get_revision, nearest_thumbnail
from studio.history.rows import (
    CURRENT_BRANCH, add_event, add_revision, create_branch, insert_blob, payload_text, set_head, set_meta,
    update_event,
)
from studio.history.schema import CHECKPOINT_INTERVAL, connect
from studio.history.setting_groups import GROUP_WINDOW, merged_payload
from studio.history.state import DocumentState, apply_event

MAX_BATCH = 512  # jobs per transaction
WAL_HARD_BYTES = 16 * 2**20  # a WAL larger than this is folded by the writer itself before its next commit
PAGES_PER_EVENT = 8  # table and index pages an event touches (for estimating WAL growth)


@dataclass(frozen=True)
class Appended:
    """Acknowledgement of a committed event: its id, the revision it produced, and whether it was merged into
    the previous event (coalesced typing)."""

    event: int
    revision: int
    coalesced: bool = False


@dataclass
class _Job:
    future: Future = field(default_factory=Future, init=False)


@dataclass
class _Append(_Job):
    event: ev.NewEvent
    text: str  # canonical payload JSON, encoded in the caller's thread
    time: float


@dataclass
class _Fork(_Job):
    kind: str  # ev.RESTORE or ev.BRANCH
    revision: int | None
    name: str | None
    time: float


@dataclass
class _Switch(_Job):
    name: str


@dataclass
class _Barrier(_Job):
    pass


@dataclass
class _Checkpoint(_Job):
    revision: int
    state: str
    blobs: list
    epoch: int  # the writer's epoch when the state was taken; a failed commit since makes it stale


@dataclass
class _Head:
    branch: int
    revision: int
    state: DocumentState
    distance: int  # events since the last checkpoint on the path to this revision


@dataclass
class _Tail:
    """The newest event when it is a setting edit that a following edit of the same field may merge into
    (`payload` set: a grouped edit, which any following grouped edit may join)."""

    event: int
    revision: int
    field: str
    updated: float
    payload: dict[str, Any] | None = None


_STOP = object()


class Writer:
    """Owns the writing connection and the thread. `submit` is thread-safe and never blocks on disk."""

    def __init__(self, path: Path, *, coalesce_window: float, durability: str):
        self._path = path
        self._window = coalesce_window
        self._durability = durability
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._conn = None
        self._head: _Head | None = None
        self._tail: _Tail | None = None
        self._epoch = 0  # bumped whenever memory may be ahead of the database (revision ids may be reused)
        self._full_since: float | None = None  # when the disk was found full (None: not full)
        self._wal = f"{path}-wal"
        self._background = BackgroundWork(path, deliver=self._deliver_checkpoint, sync_wal=durability != "full")
        started: Future = Future()
        self._thread = threading.Thread(target=self._run, args=(started,), name="history-writer", daemon=True)
        self._thread.start()
        try:
            started.result()
        except HistoryError:
            self._background.close()
            raise

    # -- caller side ------------------------------------------------------------------------------------------
    def append(self, event: ev.NewEvent, *, text: str, time: float) -> Future:
        return self._submit(_Append(event=event, text=text, time=time))

    def fork(self, *, kind: str, revision: int | None, name: str | None, time: float) -> Future:
        return self._submit(_Fork(kind=kind, revision=revision, name=name, time=time))

    def switch(self, name: str) -> Future:
        return self._submit(_Switch(name=name))

    def barrier(self) -> Future:
        return self._submit(_Barrier())

    def close(self) -> None:
        """Write everything queued, then stop the thread and close the connection."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._background.close()  # a checkpoint being encoded is queued before the writer stops
        self._queue.put(_STOP)
        self._thread.join()

    def _submit(self, job: _Job) -> Future:
        with self._lock:
            if self._closed:
                raise HistoryError("The history store is closed.")
            self._queue.put(job)
        return job.future

    # -- writer thread ----------------------------------------------------------------------------------------
    def _run(self, started: Future) -> None:
        try:
            self._conn = connect(self._path, readonly=False, durability=self._durability)
        except HistoryError as exc:
            started.set_exception(exc)
            return
        except Exception as exc:  # noqa: BLE001 - reported to the opener
            started.set_exception(HistoryError(f"Cannot open {self._path} for writing ({exc})."))
            return
        self._conn.execute("PRAGMA wal_autocheckpoint = 0")  # folding the WAL is the helper thread's job
        self._conn.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}")  # a reused WAL shrinks back to this
        started.set_result(None)
        stop = False
        while not stop:
            batch = [self._queue.get()]
            if batch[0] is _STOP:
                break
            while len(batch) < MAX_BATCH:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is _STOP:
                    stop = True
                    break
                batch.append(job)
            self._write_batch(batch)
        self._conn.close()

    def _fold_if_needed(self) -> None:
        """Fold the WAL on the writer's own connection when the helper's passive folds cannot keep up (steady
        writing never lets the WAL restart) or the disk is full: it copies only what the helper left, and the
        next commit then reuses the WAL from its start instead of growing it."""
        if self._full_since is None:
            try:
                if os.path.getsize(self._wal) <= WAL_HARD_BYTES:
                    return
            except OSError:
                return
        try:
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error:
            pass

    def _write_batch(self, batch: list[_Job]) -> None:
        conn = self._conn
        self._fold_if_needed()
        outcomes: list[tuple[_Job, Any, BaseException | None]] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            for job in batch:
                if not job.future.set_running_or_notify_cancel():
                    continue
                conn.execute("SAVEPOINT job")
                try:
                    outcomes.append((job, self._do(job), None))
                    conn.execute("RELEASE job")
                except Exception as exc:  # noqa: BLE001 - the job's future carries it
                    if not conn.in_transaction:  # SQLite rolled the whole batch back (e.g. a full disk)
                        raise
                    conn.execute("ROLLBACK TO job")
                    conn.execute("RELEASE job")
                    if not isinstance(exc, HistoryError):
                        self._forget()  # memory may be ahead of the database
                        exc = self._disk_full() if _is_disk_full(exc) else HistoryError(
                            f"The event could not be saved ({exc}).")
                    outcomes.append((job, None, exc))
            conn.execute("COMMIT")
        except Exception as exc:  # noqa: BLE001 - commit failed: nothing of the batch is saved
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._forget()
            full = _is_disk_full(exc)
            error = HistoryError(f"The history could not be saved to {self._path} ({exc}).")
            for job in batch:
                if not job.future.done():
                    if not job.future.running():
                        job.future.set_running_or_notify_cancel()
                    if isinstance(job, _Barrier):
                        job.future.set_result(None)  # a barrier only says that what came before is done
                    else:
                        job.future.set_exception(self._disk_full() if full else error)
            return
        if any(error is None and not isinstance(job, (_Barrier, _Checkpoint)) for job, _, error in outcomes):
            self._full_since = None  # a save went through: the next full disk is a new episode
        for job, result, error in outcomes:
            if error is None:
                job.future.set_result(result)
            else:
                job.future.set_exception(error)
        self._background.wrote(sum(_written_bytes(job) for job, _, error in outcomes if error is None))

    def _disk_full(self) -> DiskFullError:
        repeat = self._full_since is not None
        if not repeat:
            self._full_since = time.monotonic()
            self._background.fold_now()  # a folded WAL is reused from its start: freed space goes further
        return DiskFullError(f"The disk holding {self._path} is full: the latest edit was not saved, every edit "
                             "before it is kept. Free some space and go on editing.", repeat=repeat)

    def _forget(self) -> None:
        """Drop the in-memory head (reloaded from the database when next needed) and pending checkpoints."""
        self._head, self._tail = None, None
        self._epoch += 1

    def _checkpoint_if_due(self, head: _Head) -> None:
        """Hand a copy of the head state to the encoder once it is CHECKPOINT_INTERVAL events from the last one."""
        if head.distance < CHECKPOINT_INTERVAL:
            return
        self._tail = None  # the checkpointed revision's event must not change by coalescing any more
        head.distance = 0
        self._background.encode(self._epoch, head.state.copy())

    def _deliver_checkpoint(self, epoch: int, revision: int, state: str, blobs: list) -> None:
        """Called by the helper thread: queue the encoded checkpoint for writing."""
        self._queue.put(_Checkpoint(revision=revision, state=state, blobs=blobs, epoch=epoch))

    def _current_head(self) -> _Head:
        """The head in memory, reloaded when another process (e.g. `studio history feedback`) moved it."""
        branch = current_branch(self._conn)
        head = self._head
        if head is None or (head.branch, head.revision) != (branch.id, branch.head):
            state, distance = state_at(self._conn, branch.head)
            self._head, self._tail = _Head(branch.id, branch.head, state, distance), None
        return self._head

    def _do(self, job: _Job) -> Any:
        if isinstance(job, _Append):
            return self._append(job)
        if isinstance(job, _Fork):
            return self._fork(job)
        if isinstance(job, _Checkpoint):
            if job.epoch == self._epoch:
                insert_checkpoint(self._conn, job.revision, job.state, job.blobs)
            return None
        if isinstance(job, _Switch):
            row = self._conn.execute("SELECT id FROM branches WHERE name = ?", (job.name,)).fetchone()
            if row is None:
                raise HistoryError(f"There is no branch named {job.name!r}.")
            set_meta(self._conn, CURRENT_BRANCH, str(row[0]))
            self._head, self._tail = None, None
            return None
        return None  # barrier

    def _append(self, job: _Append) -> Appended:
        event, conn = job.event, self._conn
        head = self._current_head()
        tail = self._tail
        on_tail = (event.kind == ev.SETTING and tail is not None and tail.revision == head.revision
                   and head.distance > 0)
        typing = (on_tail and tail.payload is None and not event.group and tail.field == event.payload["field"]
                  and job.time - tail.updated <= self._window)
        grouped = on_tail and tail.payload is not None and event.group and job.time - tail.updated <= GROUP_WINDOW
        if typing or grouped:
            payload = merged_payload(tail.payload, event.payload) if grouped else event.payload
            apply_event(head.state, revision=head.revision, kind=event.kind, payload=event.payload,
                        blobs=DbBlobSource(conn))
            update_event(conn, event=tail.event, updated=job.time,
                         payload=payload_text(payload) if grouped else job.text,
                         text=ev.search_text(event.kind, payload))
            tail.updated = job.time
            tail.payload = payload if grouped else None
            return Appended(tail.event, tail.revision, coalesced=True)
        source = DbBlobSource(conn, {blob.hash: blob for blob in event.blobs})
        for hash_ in ev.blob_refs(event.kind, event.payload):
            source.media(hash_)  # raises if the blob is neither given nor stored
        if event.kind == ev.FEEDBACK:
            _check_feedback_target(conn, event.payload)
        apply_event(head.state, revision=head.revision, kind=event.kind, payload=event.payload, blobs=source)
        for blob in event.blobs:
            insert_blob(conn, blob)
        if event.thumbnail is not None:
            insert_blob(conn, event.thumbnail)
        revision = add_revision(conn, parent=head.revision, branch=head.branch, time=job.time,
                                thumbnail=event.thumbnail.hash if event.thumbnail else None)
        event_id = add_event(conn, time=job.time, updated=job.time, kind=event.kind, payload=job.text,
                             revision=revision, text=ev.search_text(event.kind, event.payload))
        set_head(conn, head.branch, revision)
        head.revision = head.state.revision = revision
        head.distance += 1
        is_setting = event.kind == ev.SETTING
        self._tail = _Tail(event_id, revision, event.payload["field"], job.time,
                           dict(event.payload) if event.group else None) if is_setting else None
        self._checkpoint_if_due(head)
        return Appended(event_id, revision)

    def _fork(self, job: _Fork) -> Appended:
        conn = self._conn
        target = job.revision if job.revision is not None else self._current_head().revision
        get_revision(conn, target)
        name = job.name or _free_branch_name(conn, f"{job.kind}-{target}")
        if conn.execute("SELECT 1 FROM branches WHERE name = ?", (name,)).fetchone():
            raise HistoryError(f"A branch named {name!r} already exists.")
        state, distance = state_at(conn, target)
        branch = create_branch(conn, name=name, head=target, forked_from=target, time=job.time)
        revision = add_revision(conn, parent=target, branch=branch, time=job.time,
                                thumbnail=nearest_thumbnail(conn, target))
        payload = {"revision": target, "branch": name} if job.kind == ev.RESTORE else {"revision": target, "name": name}
        event_id = add_event(conn, time=job.time, updated=job.time, kind=job.kind,
                             payload=payload_text(payload), revision=revision, text=None)
        set_head(conn, branch, revision)
        set_meta(conn, CURRENT_BRANCH, str(branch))
        state.revision = revision
        self._head, self._tail = _Head(branch, revision, state, distance + 1), None
        return Appended(event_id, revision)


def _is_disk_full(exc: BaseException) -> bool:
    """SQLITE_FULL (the disk or the database size limit), or ENOSPC from a file write."""
    if isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "disk is full" in str(exc)
    return isinstance(exc, OSError) and exc.errno == 28


def _written_bytes(job: _Job) -> int:
    """Rough WAL growth of a job: the pages an event touches plus its payload and blobs."""
    size = PAGES_PER_EVENT * 4096
    if isinstance(job, _Append):
        blobs = job.event.blobs + ((job.event.thumbnail,) if job.event.thumbnail else ())
        size += len(job.text) + sum(len(blob.data) for blob in blobs)
    elif isinstance(job, _Checkpoint):
        size += len(job.state) + sum(len(blob.data) for blob in job.blobs)
    return size


def _check_feedback_target(conn, payload: dict) -> None:
    target = get_event(conn, payload["generation"])
    if target.kind != ev.GENERATION:
        raise HistoryError(f"Event {target.id} is a {target.kind} event; feedback needs a generation.")
    result = payload["result"]
    if result is not None and result >= len(target.payload["results"]):
        raise HistoryError(f"Generation {target.id} has {len(target.payload['results'])} results, not {result + 1}.")


def _free_branch_name(conn, base: str) -> str:
    name, number = base, 1
    while conn.execute("SELECT 1 FROM branches WHERE name = ?", (name,)).fetchone():
        number += 1
        name = f"{base}-{number}"
    return name
