"""The writer's helper thread: slow work that must not delay acknowledgements.

- Checkpoint encoding: the writer hands over a copy of its head state; the helper encodes the changed layers
  (OpenCV releases the GIL while it compresses) and hands a checkpoint job back to the writer's queue.
- WAL folding: the writer connection never checkpoints the WAL itself (SQLite would do it inside a commit,
  stalling that acknowledgement for as long as copying megabytes takes); the helper runs passive WAL
  checkpoints on its own connection on a budget: after every WAL_FOLD_BYTES written, WAL_FOLD_SECONDS after
  a write when writing pauses, and at once when the disk is full. Passive checkpoints never block the writer
  or readers. After a fold the writer reuses the WAL from its start and SQLite cuts the file back to
  WAL_SIZE_LIMIT (`journal_size_limit`), so the WAL does not hold on to the disk's last free space.
  `fold_wal(path)` does one fold from outside (after an export).
- WAL syncing (durability "crash"): commits are not fsync'ed one by one, so the helper fsyncs the WAL file at
  most `SYNC_SECONDS` after a commit: a power cut loses at most about that much work.
"""

from __future__ import annotations

import os
import queue
import sqlite3
import threading
import time
from pathlib import Path
from typing import Callable

from studio.history.blobs import Blob
from studio.history.checkpoints import encode_checkpoint
from studio.history.state import DocumentState

WAL_FOLD_BYTES = 4 * 2**20  # written bytes after which the WAL is folded into the document file
WAL_FOLD_SECONDS = 2.0  # a pause in writing this long folds what was written
WAL_SIZE_LIMIT = 4 * 2**20  # the WAL file is cut back to this size when it is reused
SYNC_SECONDS = 1.0  # longest time a commit stays unsynced with durability "crash"

Deliver = Callable[[int, int, str, list[Blob]], None]  # (epoch, revision, checkpoint JSON, blobs)

_STOP = object()
_FOLD = object()
_WAKE = object()


class BackgroundWork:
    """Runs checkpoint encoding and WAL folding for one writer, in order, on one daemon thread."""

    def __init__(self, path: Path, *, deliver: Deliver, sync_wal: bool) -> None:
        self._path = path
        self._deliver = deliver
        self._sync_wal = sync_wal
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._written = 0
        self._unsynced_since: float | None = None  # time of the first commit not synced yet
        self._fold_at: float | None = None  # when written but unfolded bytes are folded if writing pauses
        self._thread = threading.Thread(target=self._run, name="history-background", daemon=True)
        self._thread.start()

    def encode(self, epoch: int, state: DocumentState) -> None:
        """Encode `state` (a copy the writer no longer touches) into a checkpoint and deliver it."""
        self._queue.put((epoch, state))

    def wrote(self, size: int) -> None:
        """Count bytes the writer committed; fold the WAL after every WAL_FOLD_BYTES."""
        if self._sync_wal and self._unsynced_since is None:
            self._unsynced_since = time.monotonic()
            self._queue.put(_WAKE)  # the helper starts counting down to the next sync
        self._written += size
        if self._written >= WAL_FOLD_BYTES:
            self.fold_now()
        elif self._fold_at is None:
            self._fold_at = time.monotonic() + WAL_FOLD_SECONDS
            self._queue.put(_WAKE)

    def fold_now(self) -> None:
        """Fold the WAL into the document file as soon as the helper gets to it."""
        self._written, self._fold_at = 0, None
        self._queue.put(_FOLD)

    def close(self) -> None:
        """Finish the queued work (checkpoints are delivered before this returns) and stop."""
        self._queue.put(_STOP)
        self._thread.join()

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        while True:
            try:
                item = self._queue.get(timeout=self._seconds_to_wait())
            except queue.Empty:
                item = None
            if item is _STOP:
                break
            if item is None and self._fold_at is not None and time.monotonic() >= self._fold_at:
                self._written, self._fold_at, item = 0, None, _FOLD
            try:
                if item is _FOLD:
                    if conn is None:
                        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                elif item is not None and item is not _WAKE:
                    epoch, state = item
                    text, blobs = encode_checkpoint(state)
                    self._deliver(epoch, state.revision, text, blobs)
                if self._seconds_to_sync() == 0.0:
                    self._sync()
            except Exception:  # noqa: BLE001 - all of it only speeds up or narrows a power-cut window; retried
                continue
        self._sync()
        if conn is not None:
            conn.close()

    def _seconds_to_wait(self) -> float | None:
        waits = [t for t in (self._seconds_to_sync(),
                             None if self._fold_at is None else max(0.0, self._fold_at - time.monotonic()))
                 if t is not None]
        return min(waits) if waits else None

    def _seconds_to_sync(self) -> float | None:
        since = self._unsynced_since
        return None if since is None else max(0.0, since + SYNC_SECONDS - time.monotonic())

    def _sync(self) -> None:
        """fsync the WAL file: every commit written to it so far survives a power cut."""
        if self._unsynced_since is None:
            return
        self._unsynced_since = None
        try:
            fd = os.open(f"{self._path}-wal", os.O_RDWR)
        except FileNotFoundError:
            return
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def fold_wal(path: Path) -> None:
    """One passive fold of the document's WAL into its file (after an export); quietly nothing when the
    document has no WAL or is busy."""
    if not Path(f"{path}-wal").exists():
        return
    try:
        conn = sqlite3.connect(path, isolation_level=None, timeout=1)
        try:
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            conn.close()
    except sqlite3.Error:
        pass
