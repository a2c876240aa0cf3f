"""One lock per open document: a second window is told who holds it and opens it read-only; a killed holder
leaves no stale lock; concurrent command-line feedback still goes in, with a note."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from studio.cli import main
from studio.history import events as ev
from studio.history.errors import HistoryError
from studio.history.lock import holder_of
from studio.history.store import HistoryStore

REPO = Path(__file__).resolve().parents[2]
HOLDER = r"""
import sys, time
from studio.history.store import HistoryStore
store = HistoryStore.open(sys.argv[1], create=True, lock=True)
print("held" if not store.readonly else "refused", flush=True)
time.sleep(60)
"""


def test_a_second_window_opens_read_only_and_is_told_who_holds_it(tmp_path):
    path = tmp_path / "doc.studio"
    first = HistoryStore.create(path, lock=True)
    second = HistoryStore.open(path, lock=True)
    try:
        assert not first.readonly and first.held_by is None
        assert second.readonly and second.held_by.pid == os.getpid()
        assert "doc.studio is open for editing by" in second.held_by.sentence(path)
        with pytest.raises(HistoryError, match="read-only"):
            second.append(ev.setting_event("prompt", "mine"))
        first.append(ev.setting_event("prompt", "theirs")).result()
        assert second.state_at().settings == {"prompt": "theirs"}  # the read-only view follows the writer
    finally:
        second.close()
        first.close()
    with HistoryStore.open(path, lock=True) as third:  # closed: free again
        assert not third.readonly


def test_another_process_holds_the_lock_until_it_is_killed(tmp_path):
    path = tmp_path / "doc.studio"
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        assert child.stdout.readline().strip() == "held"
        with HistoryStore.open(path, lock=True) as store:
            assert store.readonly and store.held_by.pid == child.pid
        assert holder_of(path).pid == child.pid
        with HistoryStore.open(path) as store:  # command-line writes take no lock
            store.append(ev.setting_event("prompt", "from the command line")).result()
        assert main(["history", "restore", str(path), "--revision", "1"]) == 0
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert holder_of(path) is None
    with HistoryStore.open(path, lock=True) as store:
        assert not store.readonly and store.state_at().settings == {}
        assert [e.kind for e in store.events()][-1] == "restore"


def test_feedback_from_the_command_line_notes_the_open_window(tmp_path, capsys):
    path = tmp_path / "doc.studio"
    with HistoryStore.create(path, lock=True) as window:
        generation = window.append(ev.generation_event(request={"prompt": "p", "controls": []},
                                                       control_images=[], results=[], models={}, seed=1,
                                                       timings={})).result().event
        assert main(["history", "feedback", str(path), "--generation", str(generation), "--accept"]) == 0
        assert "note: doc.studio is open for editing by" in capsys.readouterr().err
        assert window.generation(generation).verdict == "accept"
