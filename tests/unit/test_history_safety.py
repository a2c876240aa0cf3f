"""History store safety: acknowledged events survive SIGKILL, foreign and newer files are refused untouched,
and documents of the first schema are migrated."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from studio.history import events as ev
from studio.history.check import check_document
from studio.history.errors import HistoryError, NewerSchemaError, NotAStudioFileError
from studio.history.schema import SCHEMA_VERSION
from studio.history.store import HistoryStore

FIXTURE_V1 = Path(__file__).parent / "fixtures" / "history_v1.studio"
REPO = Path(__file__).resolve().parents[2]

# The child appends strokes, settings and generations as fast as it can and prints "ack <seq> <event id>"
# from each acknowledgement (that is: after the commit). Each event carries its sequence number. Rounds
# alternate the two durability settings: both must keep every acknowledged event when the process dies.
CHILD = r"""
import sys, time
import numpy as np
from studio.history import events as ev
from studio.history.store import HistoryStore

path, start, durability = sys.argv[1], int(sys.argv[2]), sys.argv[3]
store = HistoryStore.open(path, create=True, durability=durability)
if store.head().kind == "created":
    layers = [ev.LayerContent("edge", "edge", {}, np.zeros((64, 64), np.uint8))]
    store.append(ev.snapshot_event(width=64, height=64, layers=layers)).result()
print("ready", flush=True)
rng = np.random.default_rng(start)

def acknowledge(seq):
    def done(future):
        if future.exception() is None:
            sys.stdout.write(f"ack {seq} {future.result().event}\n")
            sys.stdout.flush()
    return done

seq = start
while True:
    if seq % 40 == 0:
        image = rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)
        event = ev.generation_event(request={"prompt": f"g{seq}", "controls": []}, control_images=[],
                                    results=[image], models={}, seed=seq, timings={})
    elif seq % 7 == 0:
        event = ev.setting_event(f"s{seq}", seq)
    else:
        x, y = (int(v) for v in rng.integers(0, 56, 2))
        event = ev.stroke_event("edge", x=x, y=y, patch=rng.integers(0, 256, (8, 8), dtype=np.uint8),
                                tool=f"t{seq}")
    store.append(event).add_done_callback(acknowledge(seq))
    seq += 1
    if seq % 50 == 0:
        time.sleep(0.002)
"""


def _count_checkpoints(store: HistoryStore) -> int:
    with store.read_transaction() as conn:
        return conn.execute("SELECT COUNT(*) FROM checkpoints").fetchone()[0]


def _marker(event) -> int:
    if event.kind == "stroke":
        return int(event.payload["tool"][1:])
    if event.kind == "setting":
        return int(event.payload["field"][1:])
    return int(event.payload["request"]["prompt"][1:])


def test_acknowledged_events_survive_sigkill(tmp_path):
    path = tmp_path / "crash.studio"
    chooser = random.Random(20260509)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    total_acks = 0
    for round_ in range(5):
        durability = ("full", "crash")[round_ % 2]
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(round_ * 1_000_000), durability],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        time.sleep(chooser.uniform(0.05, 0.6))
        child.send_signal(signal.SIGKILL)
        out, _ = child.communicate(timeout=30)
        assert child.returncode == -signal.SIGKILL
        acks = [line.split() for line in out.splitlines() if line.startswith("ack ")]
        acks = [(int(seq), int(event)) for _, seq, event in acks if event.isdigit()]
        total_acks += len(acks)

        conn = sqlite3.connect(path)
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        conn.close()
        with HistoryStore.open(path) as store:
            logged = {e.id: e for e in store.events()}
            for seq, event_id in acks:
                assert event_id in logged, f"acknowledged event {event_id} (seq {seq}) lost in round {round_}"
                assert _marker(logged[event_id]) == seq
            store.state_at()  # the head rebuilds
        assert check_document(path) == []
    assert total_acks > 100  # the rounds really wrote while being killed


def _foreign_files(tmp_path: Path) -> dict[str, Path]:
    files = {}
    files["random"] = tmp_path / "random.studio"
    files["random"].write_bytes(np.random.default_rng(0).integers(0, 256, 8192, dtype=np.uint8).tobytes())
    files["empty"] = tmp_path / "empty.studio"
    files["empty"].write_bytes(b"")
    files["other_sqlite"] = tmp_path / "other.studio"
    conn = sqlite3.connect(files["other_sqlite"])
    conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT)")
    conn.execute("INSERT INTO events (kind) VALUES ('x')")
    conn.commit()
    conn.close()
    files["truncated"] = tmp_path / "truncated.studio"
    with HistoryStore.create(tmp_path / "whole.studio") as store:
        store.append(ev.setting_event("prompt", "x" * 5000)).result()
    files["truncated"].write_bytes((tmp_path / "whole.studio").read_bytes()[:1500])
    return files


@pytest.mark.parametrize("kind", ["random", "empty", "other_sqlite", "truncated"])
def test_files_that_are_not_ours_are_refused_and_left_unchanged(tmp_path, kind):
    path = _foreign_files(tmp_path)[kind]
    before = path.read_bytes()
    for readonly in (False, True):
        with pytest.raises(HistoryError) as info:
            HistoryStore.open(path, readonly=readonly)
        assert str(path) in str(info.value)
        assert isinstance(info.value, NotAStudioFileError) or "damaged" in str(info.value)
    assert path.read_bytes() == before
    assert not Path(f"{path}-wal").exists() and not Path(f"{path}-journal").exists()


def test_a_folder_is_refused(tmp_path):
    with pytest.raises(NotAStudioFileError, match="folder"):
        HistoryStore.open(tmp_path)


def test_newer_schema_is_refused_and_left_unchanged(tmp_path):
    path = tmp_path / "future.studio"
    with HistoryStore.create(path) as store:
        store.append(ev.setting_event("prompt", "from the future")).result()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    before = path.read_bytes()
    for readonly in (False, True):
        with pytest.raises(NewerSchemaError, match="newer"):
            HistoryStore.open(path, readonly=readonly)
    assert path.read_bytes() == before


def test_first_schema_fixture_is_migrated(tmp_path):
    path = tmp_path / "old.studio"
    shutil.copy(FIXTURE_V1, path)
    with pytest.raises(HistoryError, match="open it once for writing"):
        HistoryStore.open(path, readonly=True)
    with HistoryStore.open(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        events = store.events()
        assert len(events) == 130 and not store.events(kinds=None, text="nothing-like-this")
        assert "prompt" not in {e.kind for e in events}
        assert [e.payload["value"] for e in store.events(kinds=["setting"])] == [
            "a lighthouse at dusk", "blurry", "a lighthouse in a storm"]
        assert {e.kind for e in store.events(text="storm")} == {"chat", "setting"}
        generation = store.generations()[0]
        assert generation.verdict == "accept" and generation.rating == 5
        assert store.current_branch().name == "restore-50"
        assert store.current_branch().forked_from == 50
        state = store.state_at()
        assert state.layers["pose"].content["people"] == [{"pose_keypoints_2d": [1, 2, 1]}]
        assert state.settings == {"steps": 20, "prompt": "a lighthouse at dusk", "negative_prompt": "blurry"}
        main_head = next(b.head for b in store.branches() if b.name == "main")
        assert store.state_at(main_head).settings["prompt"] == "a lighthouse in a storm"
        assert store.state_at(main_head).layers["edge"].content.sum() > 0
        checkpoints = _count_checkpoints(store)
        assert checkpoints >= 2  # the root and one built by the migration (120 strokes on one path)
        store.append(ev.setting_event("prompt", "after the upgrade")).result()
    assert check_document(path) == []
    fresh = tmp_path / "fresh.studio"
    HistoryStore.create(fresh).close()
    query = "SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'search%' ORDER BY name"
    migrated_schema = sqlite3.connect(path).execute(query).fetchall()
    assert migrated_schema == sqlite3.connect(fresh).execute(query).fetchall()


def test_failed_migration_leaves_the_file_as_it_was(tmp_path):
    path = tmp_path / "broken.studio"
    shutil.copy(FIXTURE_V1, path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE blobs SET data = x'00' WHERE media = 'json'")  # breaks the blobs' hashes
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(HistoryError, match="does not match its hash"):
        HistoryStore.open(path)
    assert path.read_bytes() == before
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == 1


def test_a_file_with_our_id_but_other_tables_is_refused_untouched(tmp_path):
    from studio.cli import main
    from studio.history.schema import APPLICATION_ID

    path = tmp_path / "impostor.studio"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    for readonly in (False, True):
        with pytest.raises(NotAStudioFileError, match="lacks the table"):
            HistoryStore.open(path, readonly=readonly)
    assert main(["history", "feedback", str(path), "--generation", "1", "--accept"]) == 2
    assert main(["history", "log", str(path)]) == 2
    assert path.read_bytes() == before  # not switched to WAL, nothing written
    assert not Path(f"{path}-wal").exists()
