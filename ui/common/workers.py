"""Run core jobs (generation, model loading, demo set-up) off the GUI thread, and the one way back to it.

A job is a plain function `fn(report, cancel) -> result`: `report(message)` sends a progress message to the
GUI thread and `cancel` is a `threading.Event` the job checks. Jobs run one at a time, in order, on a
dedicated thread pool, so two generations never compete for the same model.

Back to the GUI thread there is one route, Qt's queued signals to an object that lives in the GUI thread: a
job's `JobBridge` (its progress and outcome) and `GuiCalls.post(fn)` (any callable, from any thread; the
history thread's callbacks use it). Widgets are only ever touched on the GUI thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

JobFunction = Callable[[Callable[[Any], None], threading.Event], Any]


class JobBridge(QObject):
    """Signals of one job: `progress(message)`, then exactly one of `finished(result)` or `failed(error)`.
    It lives in the GUI thread, so Qt queues every emission from the worker and the slots run on the GUI thread."""

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(object)


class GuiCalls(QObject):
    """Runs callables on the GUI thread: `post(fn)` from any thread queues `fn()` there, in posting order."""

    _call = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._call.connect(lambda callback: callback())

    def post(self, callback: Callable[[], None]) -> None:
        try:
            self._call.emit(callback)
        except RuntimeError:  # the owner is gone (the window closed); nobody is left to tell
            pass


class _Runnable(QRunnable):
    def __init__(self, handle: "JobHandle") -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._handle = handle

    def run(self) -> None:  # runs on the worker thread
        handle = self._handle
        bridge = handle.bridge
        try:
            result = handle.fn(bridge.progress.emit, handle.cancel_event)
        except BaseException as exc:  # every failure must reach the user, never kill the thread silently
            handle.error = exc
            handle.done_event.set()
            bridge.failed.emit(exc)
        else:
            handle.result = result
            handle.done_event.set()
            bridge.finished.emit(result)


class JobHandle:
    """One submitted job: its signals (`bridge`), cancellation and completion state.

    `result` / `error` are set on the worker thread just before `finished` / `failed` is emitted, so code that
    waited for the job (`JobRunner.wait`) can read the outcome without running the event loop.
    """

    def __init__(self, fn: JobFunction, *, parent: QObject) -> None:
        self.fn = fn
        self.bridge = JobBridge(parent)
        self.cancel_event = threading.Event()
        self.done_event = threading.Event()
        self.result: Any = None
        self.error: BaseException | None = None

    def cancel(self) -> None:
        """Ask the job to stop at its next check; its `finished`/`failed` still arrives."""
        self.cancel_event.set()

    @property
    def running(self) -> bool:
        return not self.done_event.is_set()


class JobRunner(QObject):
    """Starts jobs on one background thread, in submission order."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)

    def submit(
        self,
        fn: JobFunction,
        *,
        on_progress: Callable[[Any], None] | None = None,
        on_finished: Callable[[Any], None] | None = None,
        on_failed: Callable[[BaseException], None] | None = None,
    ) -> JobHandle:
        """Queue `fn`; the callbacks run on the GUI thread. They are connected before the job can start, so no
        message is missed; the job's bridge is deleted after the last of them ran."""
        handle = JobHandle(fn, parent=self)
        bridge = handle.bridge
        for signal, slot in ((bridge.progress, on_progress), (bridge.finished, on_finished),
                             (bridge.failed, on_failed)):
            if slot is not None:
                signal.connect(slot)
        # Connected last, so queued after the callbacks above: deleting the bridge earlier would drop them.
        bridge.finished.connect(lambda _result: bridge.deleteLater())
        bridge.failed.connect(lambda _error: bridge.deleteLater())
        self._pool.start(_Runnable(handle))
        return handle

    def wait(self, msecs: int = -1) -> bool:
        """Block until every queued job has finished (used at shutdown and by tests)."""
        return self._pool.waitForDone(msecs)
