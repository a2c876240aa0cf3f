"""Worker messages -> Qt signals.

A job running on a worker thread reports through a `JobBridge` owned by the GUI thread. Because the bridge
lives in the GUI thread, Qt queues every emission and the connected slots run on the GUI thread, so widgets are
only ever touched there.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class JobBridge(QObject):
    """Signals of one job: `progress(message)`, then exactly one of `finished(result)` or `failed(error)`."""

    progress = Signal(object)
    finished = Signal(object)
    failed = Signal(object)
