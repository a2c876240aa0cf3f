"""Crash recovery: offer the untitled document an app left behind when it did not close cleanly.

An untitled document logs every edit into an autosave file, locked while its window runs; closing the window
deletes it (after asking). So an autosave whose lock is stale (its process is gone) holds work that was never
closed: at start the window offers to reopen the newest one. Older ones are kept for a later start.
"""

from __future__ import annotations

import time
from concurrent.futures import Future
from typing import TYPE_CHECKING

from PySide6.QtCore import QLockFile
from PySide6.QtWidgets import QMessageBox

from studio.app.document_storage import StoreSummary

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

    from ui.document.files import DocumentFiles
    from ui.history.session import HistorySession


def recovery_question(summary: StoreSummary) -> str:
    when = time.strftime("%d %b %Y, %H:%M", time.localtime(summary.last_edit))
    edits = f"{summary.edits} logged edits" if summary.edits > 0 else "edits"
    return (f"An untitled document with {edits}, last changed on {when}, was not closed properly "
            "(the app may have crashed). Recover it?")


def offer_recovery(history: "HistorySession", files: "DocumentFiles", parent: "QWidget") -> Future:
    """Look for leftover autosaves on the history thread, then ask (over `parent`) about the newest one."""
    return history.claim_leftovers(done=lambda found: _ask(history, files, parent, found))


def _ask(history: "HistorySession", files: "DocumentFiles", parent: "QWidget",
         found: list[tuple[StoreSummary, QLockFile]]) -> None:
    if not found:
        return
    (summary, lock), later = found[0], found[1:]
    for other, other_lock in later:
        history.forget_leftover(other.path, other_lock, delete=False)
    buttons = QMessageBox.StandardButton
    answer = QMessageBox.question(parent, "Recover unsaved work", recovery_question(summary),
                                  buttons.Open | buttons.Discard | buttons.Ignore, buttons.Open)
    if answer == buttons.Open:
        files.recover(summary.path, lock)
    else:  # Discard deletes it; Ignore (or closing the question) keeps it for the next start
        history.forget_leftover(summary.path, lock, delete=answer == buttons.Discard)
