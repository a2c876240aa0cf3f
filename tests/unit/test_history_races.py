"""Races and crashes around creating and importing documents: nothing ever replaces an existing document, a
writer killed meanwhile keeps every acknowledged event, and concurrent creators all open the file that won."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from studio.history import events as ev
from studio.history.check import check_document
from studio.history.errors import HistoryError
from studio.history.export import export_history
from studio.history.importer import import_history
from studio.history.store import HistoryStore

REPO = Path(__file__).resolve().parents[2]

# Waits for "go" on stdin, then opens (creating when missing) the document and appends settings as fast as it
# can, printing "ack <marker> <event id>" after each commit.
CHILD = r"""
import sys
from studio.history import events as ev
from studio.history.store import HistoryStore

path, name = sys.argv[1], sys.argv[2]
print("waiting", flush=True)
sys.stdin.readline()
store = HistoryStore.open(path, create=True)
print("ready", flush=True)

def acknowledge(seq):
    def done(future):
        if future.exception() is None:
            sys.stdout.write(f"ack {seq} {future.result().event}\n")
            sys.stdout.flush()
    return done

seq = 0
while True:
    store.append(ev.setting_event(f"{name}-{seq}", seq)).add_done_callback(acknowledge(seq))
    seq += 1
    if seq % 20 == 0:
        store.flush()
"""


def _start(path: Path, name: str) -> subprocess.Popen:
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), name], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": str(REPO)})
    assert child.stdout.readline().strip() == "waiting", child.stderr.read()
    return child


def _first_ack(child: subprocess.Popen) -> str:
    line = child.stdout.readline()
    assert line.startswith("ack "), child.stderr.read()
    return line


def _kill(child: subprocess.Popen, seen: str = "") -> list[tuple[str, int]]:
    """Kill the child; its acknowledged (field, event id) pairs (`seen`: lines already read)."""
    child.send_signal(signal.SIGKILL)
    out, err = child.communicate(timeout=30)
    out = seen + out
    assert child.returncode == -signal.SIGKILL, err
    acks = [line.split() for line in out.splitlines() if line.startswith("ack ")]
    return [(seq, int(event)) for _, seq, event in acks if event.isdigit()]


def _assert_kept(path: Path, name: str, acks: list[tuple[str, int]]) -> None:
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    conn.close()
    with HistoryStore.open(path, readonly=True) as store:
        logged = {e.id: e.payload["field"] for e in store.events(kinds=["setting"])}
    for seq, event in acks:
        assert logged.get(event) == f"{name}-{seq}", f"acknowledged event {event} of {name} was lost"
    assert check_document(path) == []


@pytest.fixture(scope="module")
def archive(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("race")
    rng = np.random.default_rng(3)
    with HistoryStore.create(folder / "source.studio") as store:
        store.append(ev.snapshot_event(width=64, height=64, layers=[
            ev.LayerContent("edge", "edge", {}, np.zeros((64, 64), np.uint8))]))
        for i in range(400):
            store.append(ev.stroke_event("edge", x=i % 50, y=i % 40,
                                         patch=rng.integers(0, 256, (12, 12), dtype=np.uint8)))
        store.flush()
    export_history(folder / "source.studio", folder / "source.zip")
    return folder / "source.zip"


def test_a_document_created_while_an_import_runs_is_kept_with_every_event(archive, tmp_path):
    out = tmp_path / "doc.studio"
    raced = 0
    for round_ in range(3):
        out.unlink(missing_ok=True)
        child = _start(out, f"w{round_}")
        outcome: dict[str, object] = {}

        def run_import():
            try:
                outcome["summary"] = import_history(archive, out)
            except HistoryError as exc:
                outcome["error"] = exc

        importer = threading.Thread(target=run_import)
        importer.start()
        deadline = time.monotonic() + 10
        while not [p for p in tmp_path.iterdir() if p.name.startswith(".doc.studio")]:
            assert time.monotonic() < deadline and importer.is_alive(), "the import never started building"
            time.sleep(0.001)
        child.stdin.write("go\n")  # the import has passed its first check: the child creates the document now
        child.stdin.flush()
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        seen = _first_ack(child)
        time.sleep(0.05 * round_)  # round 0 kills the writer while the import still runs
        acks = _kill(child, seen)
        importer.join()
        assert acks, "the writer acknowledged nothing"
        _assert_kept(out, f"w{round_}", acks)
        if "error" in outcome:
            raced += 1
            message = str(outcome["error"])
            assert "was left as it is" in message and "saved as" in message
            kept = tmp_path / message.rsplit("saved as ", 1)[1].rstrip(".").rsplit("/", 1)[-1]
            with HistoryStore.open(kept, readonly=True) as store:
                assert len(store.events(kinds=["stroke"])) == 400
            kept.unlink()
    assert raced == 3  # every round the writer created the document while the import was building
    assert sorted(p.name for p in tmp_path.iterdir()) == ["doc.studio"]  # no temporary files left


def test_concurrent_creators_all_open_the_file_that_won(tmp_path):
    path = tmp_path / "new.studio"
    children = [_start(path, f"c{n}") for n in range(3)]
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()
    for child in children:
        line = child.stdout.readline().strip()
        if line != "ready":
            child.kill()
            pytest.fail(f"a creator failed: {child.communicate()[1]}")
    seen = [_first_ack(child) for child in children]
    time.sleep(0.2)
    acks = [_kill(child, lines) for child, lines in zip(children, seen)]
    for n, child_acks in enumerate(acks):
        assert child_acks, f"creator {n} acknowledged nothing"
        _assert_kept(path, f"c{n}", child_acks)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.endswith(("-wal", "-shm"))) == ["new.studio"]


def test_create_never_replaces_a_file(tmp_path):
    path = tmp_path / "mine.studio"
    path.write_bytes(b"precious")
    with pytest.raises(HistoryError, match="already exists"):
        HistoryStore.create(path)
    assert path.read_bytes() == b"precious"


def test_leftover_temporary_files_of_killed_runs_are_removed(archive, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        names = {
            f".doc.studio.{dead.pid}.0123abcd.studio-tmp": False,
            f".doc.studio.{dead.pid}.0123abcd.studio-tmp-journal": False,
            f".out.zip.{dead.pid}.tmp": False,  # the older pattern of exports and imports
            f".doc.studio.{dead.pid}.140031231.tmp": False,  # the older pattern of document creation
            f".doc.studio.{alive.pid}.0123abcd.studio-tmp": True,  # its process still runs
            f".doc.studio.{os.getpid()}.0123abcd.studio-tmp": True,  # ours
            f".notes.txt.{dead.pid}.tmp": True,  # not a name this app makes
            "doc.studio.tmp": True,
        }
        for name in names:
            (tmp_path / name).write_bytes(b"x" * 1000)
        HistoryStore.create(tmp_path / "new.studio").close()
        assert {n for n in names if (tmp_path / n).exists()} == {n for n, keep in names.items() if keep}
        for name in names:
            (tmp_path / name).write_bytes(b"x")
        import_history(archive, tmp_path / "imported.studio")
        assert {n for n in names if (tmp_path / n).exists()} == {n for n, keep in names.items() if keep}
        for name in names:
            (tmp_path / name).write_bytes(b"x")
        export_history(tmp_path / "new.studio", tmp_path / "out.zip")
        assert {n for n in names if (tmp_path / n).exists()} == {n for n, keep in names.items() if keep}
    finally:
        alive.kill()
        alive.wait()
