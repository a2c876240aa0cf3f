"""Waiting for the history thread and reading a window's history file in the history tests."""

from __future__ import annotations

from concurrent.futures import Future

WAIT_MS = 20_000


def wait_future(qtbot, future: Future) -> None:
    """Wait until a history job is done and its GUI callbacks have run."""
    qtbot.waitUntil(future.done, timeout=WAIT_MS)
    qtbot.wait(30)


def settle(qtbot, window) -> None:
    """Log everything pending and wait until it is committed to the file."""
    window.recorder.flush()
    wait_future(qtbot, window.history.flush())


def store_of(window):
    """The store the window logs into (reads only; the test thread may read any store)."""
    return window.history.current.store


def kinds(window) -> list[str]:
    return [event.kind for event in store_of(window).events()]
