"""Document lifecycle with nothing to lose: untitled documents log into an autosave, Save As copies the history
and logging goes on in the new file, Open shows the newest revision, and an autosave left behind by an app that
was killed is offered for recovery."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import numpy as np
import pytest
from history_helpers import kinds, settle, store_of, wait_future
from PySide6.QtWidgets import QMessageBox

from studio.app import document_storage
from studio.document.serialize import document_to_files
from studio.history.record import document_at
from studio.history.store import HistoryStore


def _autosaves(app_paths) -> list:
    return sorted(app_paths.autosave_dir.glob("*.studio"))


def test_untitled_document_logs_into_an_autosave_that_closing_removes(qtbot, make_window, app_paths):
    window = make_window()
    window.document.edge.stroke([(10, 10), (90, 60)])
    settle(qtbot, window)
    (autosave,) = _autosaves(app_paths)
    assert window.history.current.path == autosave and window.history.current.autosave
    assert os.path.exists(f"{autosave}.lock") and window.files.modified
    assert kinds(window) == ["created", "snapshot", "stroke"]
    window.close()  # the fixture answers "Discard"
    assert _autosaves(app_paths) == [] and not os.path.exists(f"{autosave}.lock")


def test_save_as_then_reopen_shows_the_same_document(qtbot, window, app_paths, tmp_path):
    document = window.document
    document.edge.stroke([(20, 20), (200, 100)], width=6)
    document.pose.add_template("standing")
    document.depth.fill(0.25)
    document.depth.opacity = 0.3
    window.generate_panel.prompt_edit.setPlainText("a dancer on a roof")
    path = tmp_path / "poster.studio"
    wait_future(qtbot, window.files.save_to(path))
    assert window.files.path == path and not window.files.modified and "poster" in window.windowTitle()
    assert window.history.current.path == path and _autosaves(app_paths) == []  # the autosave moved into the file
    # Logging goes on in the saved file, and the window never calls itself modified again.
    document.edge.stroke([(300, 300), (400, 420)], width=3)
    settle(qtbot, window)
    assert not window.files.modified and kinds(window)[-1] == "stroke"
    expected = document_to_files(document)
    window.new_document(256, 128)
    settle(qtbot, window)
    assert window.document.size == (256, 128)
    window.generate_panel.prompt_edit.setPlainText("something else")
    wait_future(qtbot, window.files.open_path(path, confirm=False))
    settle(qtbot, window)
    opened = window.document
    assert opened is not document and document_to_files(opened) == expected
    assert window.generate_panel.prompt_edit.toPlainText() == "a dancer on a roof"
    assert window.layers_panel.rows["depth"].opacity.value() == 30
    assert window.app_settings.recent_files()[0] == path.resolve()
    assert len(opened.history) == 0 and not window.files.modified
    # The history of the file is kept whole: the edits before the Save As are still there.
    with HistoryStore.open(path, readonly=True) as store:
        assert [e.kind for e in store.events()][:4] == ["created", "snapshot", "stroke", "pose"]


def test_save_as_over_an_existing_file_replaces_it(qtbot, window, tmp_path):
    target = tmp_path / "old.studio"
    HistoryStore.create(target).close()
    window.document.edge.stroke([(5, 5), (50, 50)])
    wait_future(qtbot, window.files.save_to(target))
    settle(qtbot, window)
    with HistoryStore.open(target, readonly=True) as store:
        assert np.array_equal(document_at(store).edge.data, window.document.edge.data)


def test_failed_save_as_keeps_the_autosave_and_the_path(qtbot, window, app_paths, tmp_path):
    window.document.edge.stroke([(10, 10), (50, 50)])
    wait_future(qtbot, window.files.save_to(tmp_path / "no-such-folder" / "x.studio"))
    assert window.files.path is None and window.files.modified
    assert window.message_bar.kind == "error" and "no-such-folder" in window.message_bar.text()
    window.document.edge.stroke([(60, 60), (90, 90)])
    settle(qtbot, window)
    assert window.history.current.autosave and kinds(window)[-2:] == ["stroke", "stroke"]


def test_without_an_autosave_the_window_says_so_and_save_as_still_works(qtbot, make_window, app_paths, tmp_path):
    app_paths.data_dir.mkdir(parents=True)
    app_paths.autosave_dir.write_text("a file where the autosave folder should be")
    window = make_window()
    wait_future(qtbot, window.history.flush())
    qtbot.waitUntil(lambda: window.message_bar.kind == "error", timeout=20_000)
    assert "cannot be autosaved" in window.message_bar.text()
    window.document.edge.stroke([(10, 10), (50, 50)])
    path = tmp_path / "rescued.studio"
    wait_future(qtbot, window.files.save_to(path))
    assert window.files.path == path
    window.document.edge.stroke([(60, 60), (90, 90)])
    settle(qtbot, window)
    assert kinds(window) == ["created", "snapshot", "stroke"]
    assert np.array_equal(document_at(store_of(window)).edge.data, window.document.edge.data)


def test_opening_a_corrupt_or_missing_file_keeps_the_document(qtbot, window, tmp_path):
    bad = tmp_path / "bad.studio"
    bad.write_bytes(b"this is not a studio document" * 10)
    window.document.edge.stroke([(10, 10), (50, 50)])
    settle(qtbot, window)
    before, log = window.document, window.history.current
    wait_future(qtbot, window.files.open_path(bad, confirm=False))
    assert window.document is before and window.history.current is log
    assert window.message_bar.kind == "error" and "bad.studio" in window.message_bar.text()
    assert bad.read_bytes() == b"this is not a studio document" * 10
    wait_future(qtbot, window.files.open_path(tmp_path / "missing.studio", confirm=False))
    assert window.document is before
    window.document.edge.stroke([(60, 60), (90, 90)])
    settle(qtbot, window)
    assert kinds(window)[-2:] == ["stroke", "stroke"]


def _leave_autosave_of_a_killed_app(folder):
    """An untitled document with a stroke, locked by a process that is then killed (SIGKILL)."""
    from studio.document import Document
    from studio.history.record import change_event
    from studio.document.events import ChangeEvent

    document = Document(128, 96)
    path = document_storage.new_autosave_path(folder)
    store = document_storage.create_document(path, document.copy(), settings={})
    document.edge.stroke([(10, 10), (100, 80)], width=5)
    store.append(change_event(document, ChangeEvent("edge", "pixels", (0, 0, 128, 96)))).result()
    store.append(change_event(document, ChangeEvent("edge", "property", prop="opacity"))).result()
    store.close()
    locker = ("import os, signal, sys\nfrom PySide6.QtCore import QLockFile\n"
              "lock = QLockFile(sys.argv[1]); lock.setStaleLockTime(0); assert lock.tryLock(0)\n"
              "os.kill(os.getpid(), signal.SIGKILL)\n")
    result = subprocess.run([sys.executable, "-c", locker, f"{path}.lock"], timeout=60)
    assert result.returncode == -signal.SIGKILL and os.path.exists(f"{path}.lock")
    return path, document


def test_autosave_left_by_a_killed_app_is_offered_for_recovery(qtbot, make_window, app_paths, monkeypatch):
    path, lost = _leave_autosave_of_a_killed_app(app_paths.autosave_dir)
    asked = []

    def answer(*args, **kwargs):
        asked.append(args[2])
        return QMessageBox.StandardButton.Open

    monkeypatch.setattr(QMessageBox, "question", answer)
    window = make_window()
    qtbot.waitUntil(lambda: window.document.size == (128, 96), timeout=20_000)
    settle(qtbot, window)
    assert len(asked) == 1 and "not closed properly" in asked[0] and "2 logged edits" in asked[0]
    assert np.array_equal(window.document.edge.data, lost.edge.data)
    assert window.files.path is None and window.files.modified  # still untitled: Save asks for a name
    assert window.history.current.path == path and len(_autosaves(app_paths)) == 1  # the blank one is gone
    window.document.edge.clear()
    settle(qtbot, window)
    assert kinds(window)[-1] == "stroke" and store_of(window).path == path


def test_recovery_can_discard_and_ignores_blank_or_live_autosaves(qtbot, make_window, app_paths, monkeypatch):
    path, _lost = _leave_autosave_of_a_killed_app(app_paths.autosave_dir)
    blank = document_storage.new_autosave_path(app_paths.autosave_dir)
    from studio.document import Document

    document_storage.create_document(blank, Document(64, 64), settings={}).close()  # no edits: nothing to offer
    first = make_window()  # answers Discard (the fixture's question)
    wait_future(qtbot, first.recovery)
    qtbot.wait(50)
    assert not path.exists() and not blank.exists()
    # A second window does not offer the first one's live autosave.
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: pytest.fail("asked about a live autosave"))
    second = make_window()
    wait_future(qtbot, second.recovery)
    qtbot.wait(50)
    assert first.history.current.path.exists()
