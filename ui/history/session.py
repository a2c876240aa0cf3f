"""The history store of the window's document, and the one thread that talks to it.

Every SQLite touch of the window goes through `HistorySession.submit`: jobs run one after another, in the order
they were submitted, on a single "history" thread. So a Save As queued after a stroke copies a file that holds
the stroke, and the history panel's reads never race with a store being closed. Results and errors come back
to the GUI thread as callbacks (through `ui.common.workers.GuiCalls`, the window's one route back); an error
without its own handler is sent as `error(message)`.

The *active* file is where events go. It changes on the history thread, in order with the events:
- `start_untitled`: a new autosave file in the data folder. A `QLockFile` beside it marks it as in use; an
  autosave left behind by an app that did not close cleanly has a stale lock (or none) and is offered for
  recovery by `claim_leftovers`.
- `open_file` / `recover`: the store is opened and read on the thread, the window shows the document, then
  `activate` makes it the active file (edits of the old document made meanwhile still go to the old file).
- `save_as`: copies the active store and makes the copy active in one job.
A file the window leaves is closed; an untitled autosave is deleted then (the user was asked before).
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import QLockFile, QObject, Signal

from studio.app import document_storage as storage
from studio.app.errors import describe_error
from studio.history import events as ev
from studio.history.errors import HistoryError
from studio.history.store import HistoryStore
from ui.common.workers import GuiCalls


@dataclass(eq=False)
class DocumentLog:
    """One open document file: its path, whether it is an untitled autosave, its store and (autosaves) lock."""

    path: Path
    autosave: bool
    store: HistoryStore
    lock: QLockFile | None = None


def _lock_for(path: Path) -> QLockFile:
    lock = QLockFile(f"{path}.lock")
    lock.setStaleLockTime(0)  # stale only when the process that took it is gone, never because of its age
    return lock


class HistorySession(QObject):
    """Owns the history thread and the active document file of one window."""

    error = Signal(str)  # a history job failed; the message says why
    committed = Signal(object)  # studio.history.writer.Appended: an event is in the file
    active_changed = Signal(object)  # DocumentLog: the file that now receives the events
    head_moved = Signal()  # a restore or branch switch changed the current branch

    def __init__(self, autosave_dir: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.autosave_dir = Path(autosave_dir)
        self.current: DocumentLog | None = None  # GUI side: the active file as last reported
        self._active: DocumentLog | None = None  # history thread only
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="history")
        self._gui = GuiCalls(self)
        self._closed = False

    # Thread plumbing -----------------------------------------------------------------------------
    def _post(self, callback: Callable[[], None]) -> None:
        self._gui.post(callback)

    def report(self, error: BaseException) -> None:
        """Send `error` to the window as one sentence (any thread)."""
        self.error.emit(describe_error(error, task="Writing the history"))

    def submit(self, fn: Callable[[], Any], *, done: Callable[[Any], None] | None = None,
               failed: Callable[[BaseException], None] | None = None) -> Future:
        """Run `fn()` on the history thread after every job submitted before; `done(result)` or
        `failed(error)` (default: the `error` signal) then run on the GUI thread. After `close` nothing runs:
        the future holds a HistoryError (late timers of a closed window end there quietly)."""
        if self._closed:
            future: Future = Future()
            future.set_exception(HistoryError("The document history is closed."))
            return future

        def job() -> Any:
            try:
                result = fn()
            except BaseException as exc:
                self._post(lambda error=exc: (failed or self.report)(error))
                raise
            if done is not None:
                self._post(lambda: done(result))
            return result

        return self._executor.submit(job)

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def store(self) -> HistoryStore:
        """History thread only: the active store."""
        if self._active is None:
            raise HistoryError("No document history is open.")
        return self._active.store

    # Events --------------------------------------------------------------------------------------
    def append(self, event: ev.NewEvent | Callable[[], ev.NewEvent | list[ev.NewEvent]], *,
               on_committed: Callable[[Any], None] | None = None) -> Future:
        """Log an event into the active file. `event` may be a function that builds it (or a list of them) on
        the history thread, where the encoding then happens. The returned future gives the writer's futures;
        `on_committed(Appended)` runs on the GUI thread for each committed event."""

        def job() -> list[Future]:
            built = event() if callable(event) else event
            if self._active is None:
                return []
            store = self._active.store
            futures = []
            for item in built if isinstance(built, list) else [built]:
                future = store.append(item)
                future.add_done_callback(lambda f: self._acknowledged(f, on_committed))
                futures.append(future)
            return futures

        return self.submit(job)

    def _acknowledged(self, future: Future, on_committed: Callable[[Any], None] | None) -> None:
        """Writer thread: pass the outcome of one event to the GUI thread."""
        error = future.exception()
        if error is not None:
            self._post(lambda: self.report(error))
            return
        appended = future.result()
        self._post(lambda: self.committed.emit(appended))
        if on_committed is not None:
            self._post(lambda: on_committed(appended))

    # Active file ---------------------------------------------------------------------------------
    def _switch(self, log: DocumentLog) -> DocumentLog:
        """History thread: make `log` active and close the file before it."""
        old, self._active = self._active, log
        if old is not None and old is not log:
            self._retire(old)

        def report() -> None:
            self.current = log
            self.active_changed.emit(log)

        self._post(report)
        return log

    @staticmethod
    def _retire(log: DocumentLog) -> None:
        """History thread: close a file the window left; an untitled autosave is deleted."""
        log.store.close()
        if log.autosave:
            storage.remove_document(log.path)
        if log.lock is not None:
            log.lock.unlock()

    def start_untitled(self, document_copy, *, settings: dict[str, Any],
                       done: Callable[[DocumentLog], None] | None = None) -> Future:
        """Log a new untitled document (a detached copy) into a fresh autosave file and make it active."""

        def job() -> DocumentLog:
            path = storage.new_autosave_path(self.autosave_dir)
            lock = _lock_for(path)
            if not lock.tryLock(0):
                raise HistoryError(f"The autosave file {path} is in use by another program.")
            try:
                store = storage.create_document(path, document_copy, settings=settings)
            except BaseException:
                lock.unlock()
                raise
            return self._switch(DocumentLog(path=path, autosave=True, store=store, lock=lock))

        failed = lambda exc: self.error.emit(f"Your work cannot be autosaved ({describe_error(exc)})")  # noqa: E731
        return self.submit(job, done=done, failed=failed)

    def open_file(self, path: Path, *, done: Callable[[DocumentLog, storage.DocumentRead], None],
                  failed: Callable[[BaseException], None] | None = None, autosave: bool = False,
                  lock: QLockFile | None = None) -> Future:
        """Open the store at `path` and read its newest revision; `done(log, read)` on the GUI thread, which
        shows the document and then calls `activate(log)` (or `release(log)` to drop it)."""

        def job() -> tuple[DocumentLog, storage.DocumentRead]:
            store, read = storage.open_document(path)
            return DocumentLog(path=path, autosave=autosave, store=store, lock=lock), read

        return self.submit(job, done=lambda pair: done(*pair), failed=failed)

    def activate(self, log: DocumentLog) -> Future:
        """Make an opened file the active one (after the window shows its document)."""
        return self.submit(lambda: self._switch(log))

    def release(self, log: DocumentLog) -> Future:
        """Close an opened file that will not be used (it is kept on disk)."""

        def job() -> None:
            log.store.close()
            if log.lock is not None:
                log.lock.unlock()

        return self.submit(job)

    def save_as(self, path: Path, *, done: Callable[[DocumentLog], None] | None,
                failed: Callable[[BaseException], None] | None = None,
                fallback: tuple[Any, dict[str, Any]] | None = None) -> Future:
        """Copy the active file (with everything logged so far) to `path` and go on logging into the copy.
        Without an active file (the autosave could not be made) `fallback` = (document copy, settings) starts
        a new file at `path` instead."""

        def job() -> DocumentLog:
            log = self._active
            if log is None:
                if fallback is None:
                    raise HistoryError("No document history is open.")
                store = storage.create_document(Path(path), fallback[0], settings=fallback[1])
                return self._switch(DocumentLog(path=Path(path), autosave=False, store=store))
            if log.path.resolve() == Path(path).resolve():
                log.store.flush()
                return log
            store = storage.copy_document(log.store, path)
            return self._switch(DocumentLog(path=Path(path), autosave=False, store=store))

        return self.submit(job, done=done, failed=failed)

    def flush(self, *, done: Callable[[], None] | None = None) -> Future:
        """Wait (on the history thread) until everything logged so far is in the file; then `done()`."""
        return self.submit(lambda: self._active.store.flush() if self._active is not None else None,
                           done=None if done is None else lambda _result: done())

    # Restore and branches ------------------------------------------------------------------------
    def read_revision(self, revision: int, *, done: Callable[[storage.DocumentRead], None]) -> Future:
        """Read the document at `revision` (for restoring it)."""
        return self.submit(lambda: storage.read_document(self.store, revision), done=done)

    def read_branch(self, name: str, *, done: Callable[[storage.DocumentRead], None]) -> Future:
        """Read the document at the head of branch `name` (for switching to it)."""
        return self.submit(lambda: storage.read_branch_head(self.store, name), done=done)

    def restore(self, revision: int, *, failed: Callable[[BaseException], None]) -> Future:
        """Start a branch at `revision` (later revisions stay) and make it current."""
        return self._fork(lambda store: store.restore(revision), failed=failed)

    def switch_branch(self, name: str, *, failed: Callable[[BaseException], None]) -> Future:
        return self._fork(lambda store: store.switch_branch(name), failed=failed)

    def _fork(self, start: Callable[[HistoryStore], Future], *, failed: Callable[[BaseException], None]) -> Future:
        def job() -> Any:
            return start(self.store).result()

        def done(appended: Any) -> None:
            if appended is not None:
                self.committed.emit(appended)
            self.head_moved.emit()

        return self.submit(job, done=done, failed=failed)

    # Crash recovery ------------------------------------------------------------------------------
    def claim_leftovers(self, *, done: Callable[[list[tuple[storage.StoreSummary, QLockFile]]], None]) -> Future:
        """Autosaves of untitled documents whose app did not close cleanly, newest first, each with its lock
        taken (pass it on to `open_file` or `forget_leftover`). Leftovers without any edit are deleted."""

        def job() -> list[tuple[storage.StoreSummary, QLockFile]]:
            found = []
            for path in storage.autosaved_documents(self.autosave_dir):
                if self._active is not None and path == self._active.path:
                    continue
                lock = _lock_for(path)
                if not lock.tryLock(0):
                    continue  # in use by a running window
                try:
                    summary = storage.summarize_document(path)
                except StudioError:
                    summary = storage.StoreSummary(path=path, edits=-1, last_edit=path.stat().st_mtime)
                if summary.edits == 0:
                    storage.remove_document(path)
                    lock.unlock()
                    continue
                found.append((summary, lock))
            return found

        return self.submit(job, done=done)

    def forget_leftover(self, path: Path, lock: QLockFile, *, delete: bool) -> Future:
        """Drop a leftover autosave (`delete`) or keep it for the next start."""

        def job() -> None:
            if delete:
                storage.remove_document(path)
            lock.unlock()

        return self.submit(job)

    # Shutdown ------------------------------------------------------------------------------------
    def close(self) -> None:
        """Write everything queued, close the active file (an untitled autosave is deleted: the user was asked)
        and stop the thread. Blocks until done (the window is closing)."""
        if self._closed:
            return

        def job() -> None:
            if self._active is not None:
                log, self._active = self._active, None
                self._retire(log)

        self.submit(job)
        self._closed = True
        self._executor.shutdown(wait=True)
