"""The writer's helper thread: slow work that must not delay acknowledgements.

- Checkpoint encoding: the writer hands over a copy of its head state; the helper encodes the changed layers
  (OpenCV releases the GIL while it compresses) and hands a checkpoint job back to the writer's queue.
- WAL folding: the writer connection never checkpoints the WAL itself (SQLite would do it inside a commit,
  stalling that acknowledgement for as long as copying megabytes takes); the helper runs passive WAL
  checkpoints on its own connection after every few megabytes written. Passive checkpoints never block the
  writer or readers.
"""

from __future__ import annotations

import queue
import sqlite3
import threading
from pathlib import Path
from typing import Callable

from studio.history.blobs import Blob
from studio.history.checkpoints import encode_checkpoint
from studio.history.state import DocumentState

WAL_FOLD_BYTES = 16 * 2**20  # written bytes after which the WAL is folded into the document file

Deliver = Callable[[int, int, str, list[Blob]], None]  # (epoch, revision, checkpoint JSON, blobs)

_STOP = object()
_FOLD = object()


class BackgroundWork:
    """Runs checkpoint encoding and WAL folding for one writer, in order, on one daemon thread."""

    def __init__(self, path: Path, *, deliver: Deliver) -> None:
        self._path = path
        self._deliver = deliver
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._written = 0
        self._thread = threading.Thread(target=self._run, name="history-background", daemon=True)
        self._thread.start()

    def encode(self, epoch: int, state: DocumentState) -> None:
        """Encode `state` (a copy the writer no longer touches) into a checkpoint and deliver it."""
        self._queue.put((epoch, state))

    def wrote(self, size: int) -> None:
        """Count bytes the writer committed; fold the WAL after every WAL_FOLD_BYTES."""
        self._written += size
        if self._written >= WAL_FOLD_BYTES:
            self._written = 0
            self._queue.put(_FOLD)

    def close(self) -> None:
        """Finish the queued work (checkpoints are delivered before this returns) and stop."""
        self._queue.put(_STOP)
        self._thread.join()

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        while (item := self._queue.get()) is not _STOP:
            try:
                if item is _FOLD:
                    if conn is None:
                        conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                else:
                    epoch, state = item
                    text, blobs = encode_checkpoint(state)
                    self._deliver(epoch, state.revision, text, blobs)
            except Exception:  # noqa: BLE001 - both only speed things up; the next request tries again
                continue
        if conn is not None:
            conn.close()
