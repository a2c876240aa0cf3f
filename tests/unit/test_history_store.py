"""History store core: appending, acknowledgements, state at any revision, coalescing, branches, reads."""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from studio.history import events as ev
from studio.history import schema
from studio.history.checkpoints import state_at
from studio.history.schema import CHECKPOINT_INTERVAL
from studio.history.errors import HistoryError
from studio.history.store import HistoryStore

def _count_checkpoints(store: HistoryStore) -> int:
    with store.read_transaction() as conn:
        return conn.execute("SELECT COUNT(*) FROM checkpoints").fetchone()[0]



def _snapshot(width: int = 64, height: int = 48, **settings) -> ev.NewEvent:
    layers = [
        ev.LayerContent("edge", "edge", {"visible": True}, np.zeros((height, width), np.uint8)),
        ev.LayerContent("depth", "depth", {"visible": True}, np.zeros((height, width), np.uint16)),
        ev.LayerContent("pose", "pose", {}, {"people": []}),
    ]
    return ev.snapshot_event(width=width, height=height, settings=settings, layers=layers,
                             thumbnail=np.zeros((height, width), np.uint8))


@pytest.fixture
def store(tmp_path):
    with HistoryStore.create(tmp_path / "doc.studio", coalesce_window=60.0) as opened:
        opened.append(_snapshot(prompt="start")).result()
        yield opened


def _random_strokes(store, count: int, seed: int = 0) -> list[tuple[int, np.ndarray]]:
    """Append `count` strokes on the edge layer; returns (revision, expected edge raster) after each."""
    rng = np.random.default_rng(seed)
    edge = np.zeros((48, 64), np.uint8)
    futures = []
    expected = []
    for _ in range(count):
        w, h = int(rng.integers(1, 9)), int(rng.integers(1, 9))
        x, y = int(rng.integers(0, 64 - w + 1)), int(rng.integers(0, 48 - h + 1))
        patch = rng.integers(0, 256, (h, w), dtype=np.uint8)
        edge[y : y + h, x : x + w] = patch
        expected.append(edge.copy())
        futures.append(store.append(ev.stroke_event("edge", x=x, y=y, patch=patch)))
    return [(f.result().revision, e) for f, e in zip(futures, expected)]


def test_new_document_has_root_revision_and_marks(tmp_path):
    path = tmp_path / "new.studio"
    with HistoryStore.create(path) as store:
        head = store.head()
        assert head.kind == ev.CREATED and head.parent is None
        assert store.current_branch().name == "main"
        assert store.schema_version == schema.SCHEMA_VERSION
    assert schema.probe(path) == schema.SCHEMA_VERSION
    header = path.read_bytes()[:100]
    assert int.from_bytes(header[68:72], "big") == schema.APPLICATION_ID
    assert not (tmp_path / "new.studio-wal").exists(), "close must fold the WAL into the document file"


def test_create_refuses_existing_file_and_open_missing_file(tmp_path):
    path = tmp_path / "doc.studio"
    HistoryStore.create(path).close()
    with pytest.raises(HistoryError, match="already exists"):
        HistoryStore.create(path)
    with pytest.raises(HistoryError, match="does not exist"):
        HistoryStore.open(tmp_path / "missing.studio")
    HistoryStore.open(tmp_path / "made.studio", create=True).close()
    assert (tmp_path / "made.studio").exists()


def test_state_at_every_revision_matches_replayed_strokes(tmp_path):
    path = tmp_path / "strokes.studio"
    with HistoryStore.create(path) as writing:
        writing.append(_snapshot(prompt="start")).result()
        history = _random_strokes(writing, 260)  # crosses two checkpoint intervals
    store = HistoryStore.open(path, readonly=True)
    assert _count_checkpoints(store) == 3  # the root and two written for the writer (closing waits for them)
    with store.read_transaction() as conn:  # no state needs more than one interval of replay
        assert max(state_at(conn, revision)[1] for revision, _ in history) < CHECKPOINT_INTERVAL
    for revision, expected in history[::13] + history[-3:]:
        state = store.state_at(revision)
        assert state.revision == revision
        np.testing.assert_array_equal(state.layers["edge"].content, expected)
    head = store.state_at()
    np.testing.assert_array_equal(head.layers["edge"].content, history[-1][1])
    assert head.settings == {"prompt": "start"}
    assert list(head.layers) == ["edge", "depth", "pose"]
    store.close()


def test_append_returns_future_at_once_and_ack_means_visible_to_readers(store):
    patch = np.full((4, 4), 255, np.uint8)
    futures = [store.append(ev.stroke_event("edge", x=i, y=0, patch=patch)) for i in range(50)]
    done = futures[-1].result(timeout=10)
    seen = {event.id for event in store.events(kinds=["stroke"])}
    assert done.event in seen and all(f.result().event in seen for f in futures)


def test_events_from_many_threads_are_all_logged_in_order(store):
    def work(layer_offset: int) -> None:
        for i in range(40):
            store.append(ev.setting_event(f"field{layer_offset}_{i}", i))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store.flush()
    events = store.events(kinds=["setting"])
    assert len(events) == 160
    revisions = [e.revision for e in events]
    assert all(e.parent == prev for e, prev in zip(events[1:], revisions))  # one linear chain


def test_each_kind_round_trips_and_changes_state(store):
    pose = {"canvas_width": 64, "canvas_height": 48, "people": [{"pose_keypoints_2d": [10.0, 20.0, 1.0]}]}
    store.append(ev.pose_event("pose", pose)).result()
    store.append(ev.layer_event("edge", {"opacity": 0.5})).result()
    store.append(ev.layer_event("reference", {"kind": "reference", "index": 0})).result()
    picture = np.random.default_rng(3).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    store.append(ev.reference_event("reference", picture)).result()
    store.append(ev.stroke_event("depth", x=2, y=3, patch=np.full((2, 2), 60000, np.uint16))).result()
    store.append(ev.chat_event(message="make it stormy", reply="prompt: storm", tool_calls=[
        {"name": "Calculator", "args": "2+2", "result": "4"}], applied=True)).result()
    state = store.state_at()
    assert state.layers["pose"].content == pose
    assert store.json_blob(store.events(kinds=["pose"])[0].payload["pose"]) == pose
    assert state.layers["edge"].props == {"visible": True, "opacity": 0.5}
    assert list(state.layers) == ["reference", "edge", "depth", "pose"]
    np.testing.assert_array_equal(state.layers["reference"].content, picture)
    assert state.layers["depth"].content.dtype == np.uint16 and state.layers["depth"].content[3, 2] == 60000
    store.append(ev.reference_event("reference", None)).result()
    store.append(ev.layer_event("depth", {"removed": True})).result()
    state = store.state_at()
    assert state.layers["reference"].content is None and "depth" not in state.layers
    chat = store.events(kinds=["chat"])[0]
    assert chat.payload["tool_calls"][0]["result"] == "4" and chat.payload["applied"] is True


@pytest.mark.parametrize(
    "event, message",
    [
        (ev.stroke_event("edge", x=62, y=0, patch=np.ones((4, 4), np.uint8)), "outside"),
        (ev.stroke_event("nope", x=0, y=0, patch=np.ones((4, 4), np.uint8)), "does not exist"),
        (ev.stroke_event("pose", x=0, y=0, patch=np.ones((4, 4), np.uint8)), "takes no strokes"),
        (ev.stroke_event("edge", x=0, y=0, patch=np.ones((4, 4, 3), np.uint8)), "pixel format"),
        (ev.layer_event("ghost", {"opacity": 0.2}), "must give its kind"),
        (ev.feedback_event(1, verdict="accept"), "feedback needs a generation"),
        (ev.feedback_event(999, rating=3), "does not exist"),
    ],
)
def test_events_that_do_not_fit_are_refused_and_nothing_is_written(store, event, message):
    before = store.head()
    with pytest.raises(HistoryError, match=message):
        store.append(event).result()
    assert store.head() == before
    store.append(ev.setting_event("steps", 30)).result()  # the writer goes on
    assert store.state_at().settings["steps"] == 30


def test_malformed_calls_fail_in_the_callers_thread(store):
    with pytest.raises(HistoryError, match="rating"):
        ev.feedback_event(2, rating=9)
    with pytest.raises(HistoryError, match="verdict, a rating or a comment"):
        ev.feedback_event(2)
    with pytest.raises(HistoryError, match="cannot be appended"):
        store.append(ev.NewEvent("restore", {"revision": 1, "branch": "x"}))
    with pytest.raises(HistoryError, match="Unknown event kind"):
        store.append(ev.NewEvent("dance", {}))
    with pytest.raises(HistoryError, match="JSON"):
        store.append(ev.setting_event("seed", object()))
    with pytest.raises(HistoryError, match="Cannot store an image"):
        ev.stroke_event("edge", x=0, y=0, patch=np.ones((2, 2), np.float32))
    missing = ev.NewEvent("pose", {"layer": "pose", "pose": "ab" * 32})
    with pytest.raises(HistoryError, match="missing"):
        store.append(missing).result()


def test_typing_is_coalesced_into_one_event_per_field(tmp_path):
    with HistoryStore.create(tmp_path / "t.studio", coalesce_window=60.0) as store:
        acks = [store.append(ev.setting_event("prompt", "a red fox"[:n])).result() for n in range(1, 10)]
        assert [a.coalesced for a in acks] == [False] + [True] * 8
        assert len({a.event for a in acks}) == 1
        store.append(ev.setting_event("negative_prompt", "blur")).result()
        store.append(ev.setting_event("prompt", "a red fox,")).result()  # another field came between
        settings = store.events(kinds=["setting"])
        assert [(e.payload["field"], e.payload["value"]) for e in settings] == [
            ("prompt", "a red fox"), ("negative_prompt", "blur"), ("prompt", "a red fox,")]
        assert settings[0].updated >= settings[0].time
        assert [e.id for e in store.events(text="fox")] == [settings[0].id, settings[2].id]
    with HistoryStore.create(tmp_path / "u.studio", coalesce_window=0.0) as store:
        store.append(ev.setting_event("prompt", "a")).result()
        time.sleep(0.01)
        assert not store.append(ev.setting_event("prompt", "ab")).result().coalesced


def test_restore_makes_a_new_branch_and_keeps_later_revisions(store):
    history = _random_strokes(store, 30)
    old_revision, old_edge = history[9]
    newest = store.head()
    done = store.restore(old_revision).result()
    branch = store.current_branch()
    assert branch.name == f"restore-{old_revision}" and branch.forked_from == old_revision
    restored = store.revision(done.revision)
    assert restored.parent == old_revision and restored.kind == ev.RESTORE
    np.testing.assert_array_equal(store.state_at().layers["edge"].content, old_edge)
    store.append(ev.stroke_event("edge", x=0, y=0, patch=np.full((2, 2), 7, np.uint8))).result()
    main = next(b for b in store.branches() if b.name == "main")
    assert main.head == newest.id  # nothing on main was lost
    np.testing.assert_array_equal(store.state_at(newest.id).layers["edge"].content, history[-1][1])
    assert store.state_at().layers["edge"].content[0, 0] == 7
    with pytest.raises(HistoryError, match="does not exist"):
        store.restore(10_000).result()


def test_branch_and_switch(store):
    start = store.head().id
    store.branch("idea").result()
    store.append(ev.setting_event("prompt", "idea")).result()
    with pytest.raises(HistoryError, match="already exists"):
        store.branch("idea").result()
    store.switch_branch("main").result()
    assert store.head().id == start
    store.append(ev.setting_event("steps", 5)).result()
    assert store.state_at().settings == {"prompt": "start", "steps": 5}
    store.switch_branch("idea").result()
    assert store.state_at().settings == {"prompt": "idea"}
    assert {b.name for b in store.branches()} == {"main", "idea"}
    assert [r.kind for r in store.revisions(branch="idea")] == ["branch", "setting"]
    with pytest.raises(HistoryError, match="no branch"):
        store.switch_branch("nothing").result()
    with pytest.raises(HistoryError, match="branch name"):
        store.branch("")


def _generation(store, prompt: str = "a fox") -> int:
    request = {"prompt": prompt, "negative_prompt": "blurry", "width": 32, "height": 32, "steps": 2,
               "controls": [{"kind": "edge", "image": None, "weight": 1.0}]}
    result = np.full((32, 32, 3), 100, np.uint8)
    event = ev.generation_event(request=request, control_images=[np.zeros((32, 32, 3), np.uint8)],
                                results=[result, result + 1], models={"base": {"name": "tiny", "sha256": "0" * 64}},
                                seed=42, timings={"total": 0.25})
    return store.append(event).result().event


def test_generations_feedback_and_thumbnails(store):
    generation = _generation(store)
    store.feedback(generation, verdict="accept", rating=4).result()
    store.feedback(generation, verdict="reject", comment="too dark", result=1).result()
    with pytest.raises(HistoryError, match="results"):
        store.feedback(generation, rating=2, result=2).result()
    record = store.generation(generation)
    assert record.verdict == "reject" and record.rating == 4
    assert [f.comment for f in record.feedback] == [None, "too dark"]
    assert store.generations() == [record]
    assert store.image(record.results[0])[0, 0].tolist() == [100, 100, 100]
    revision = store.revision(record.revision)
    thumb = store.image(revision.thumbnail)
    assert max(thumb.shape[:2]) <= 128
    assert store.thumbnail(store.head().id) == store.blob(revision.thumbnail)  # inherited by later revisions
    assert [e.id for e in store.events(text="too dark")] == [store.head().event]


def test_event_filters_kind_time_text_branch_limit(store):
    t0 = time.time()
    store.append(ev.setting_event("prompt", "a lighthouse at dusk")).result()
    _generation(store, "stormy lighthouse")
    store.append(ev.chat_event(message="add a storm", reply="prompt: a stormy sea", applied=False)).result()
    t1 = time.time()
    assert {e.kind for e in store.events(text="storm")} == {"generation", "chat"}  # word prefixes match
    assert [e.kind for e in store.events(text="lighthouse")] == ["setting", "generation"]
    assert store.events(text="dusk stormy") == []
    assert store.events(text="!!!") == []
    assert [e.kind for e in store.events(since=t0, until=t1)] == ["setting", "generation", "chat"]
    assert [e.kind for e in store.events(kinds=["chat", "setting"], since=t0)] == ["setting", "chat"]
    assert [e.kind for e in store.events(limit=2, newest_first=True)] == ["chat", "generation"]
    assert store.events(branch="other") == []
    with pytest.raises(HistoryError, match="Unknown event kind"):
        store.events(kinds=["strokes"])


def test_text_search_without_fts5_uses_like(tmp_path):
    with HistoryStore.create(tmp_path / "plain.studio", fts=False) as store:
        store.append(ev.setting_event("prompt", "100% cotton_shirt")).result()
        store.append(ev.chat_event(message="Make it BLUE", reply="ok")).result()
        assert [e.kind for e in store.events(text="cotton")] == ["setting"]
        assert [e.kind for e in store.events(text="blue")] == ["chat"]
        assert store.events(text="cotton_shirts") == []
        with store.read_transaction() as conn:
            sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'search'").fetchone()[0]
        assert "fts5" not in sql.lower()


def test_readonly_store_refuses_writes_and_reads_while_a_writer_writes(tmp_path):
    path = tmp_path / "doc.studio"
    with HistoryStore.create(path) as writer:
        writer.append(_snapshot()).result()
        reader = HistoryStore.open(path, readonly=True)
        with pytest.raises(HistoryError, match="read-only"):
            reader.append(ev.setting_event("prompt", "x"))
        for i in range(20):
            writer.append(ev.setting_event(f"f{i}", i))
            reader.state_at()  # never blocks on the writer
        writer.flush()
        assert len(reader.events(kinds=["setting"])) == 20
        reader.close()


def test_two_writers_on_one_document_keep_one_chain(tmp_path):
    """The studio and `studio history feedback` may write the same file: each append goes on the real head."""
    path = tmp_path / "doc.studio"
    with HistoryStore.create(path) as first, HistoryStore.open(path) as second:
        first.append(ev.setting_event("a", 1)).result()
        second.append(ev.setting_event("b", 2)).result()
        first.append(ev.setting_event("c", 3)).result()
        second.restore(2).result()
        first.append(ev.setting_event("d", 4)).result()
        events = first.events()
        assert [e.parent for e in events[1:4]] == [e.revision for e in events[0:3]]
        assert events[-1].branch == "restore-2" and events[-1].parent == events[-2].revision
        assert first.state_at().settings == {"a": 1, "d": 4}


def test_durability_setting(tmp_path):
    with pytest.raises(HistoryError, match="Unknown durability"):
        HistoryStore.create(tmp_path / "a.studio", durability="sometimes")
    assert not (tmp_path / "a.studio").exists()
    with HistoryStore.create(tmp_path / "b.studio", durability="crash") as store:
        store.append(ev.setting_event("prompt", "quick")).result()
    with pytest.raises(HistoryError, match="Unknown durability"):
        HistoryStore.open(tmp_path / "b.studio", durability="never")
    with HistoryStore.open(tmp_path / "b.studio") as store:
        assert store.state_at().settings == {"prompt": "quick"}


def test_wal_is_folded_into_the_document_while_writing(tmp_path, monkeypatch):
    from studio.history import background

    monkeypatch.setattr(background, "WAL_FOLD_BYTES", 256 * 1024)
    path = tmp_path / "doc.studio"
    with HistoryStore.create(path, durability="crash") as store:
        store.append(_snapshot()).result()
        rng = np.random.default_rng(0)
        for _ in range(24):  # about 15 MiB of WAL frames in all
            for _ in range(25):
                store.append(ev.stroke_event("edge", x=0, y=0, patch=rng.integers(0, 256, (40, 60), dtype=np.uint8)))
            store.flush()
            time.sleep(0.05)  # the helper folds while the writer goes on
        folded, wal = path.stat().st_size, Path(f"{path}-wal").stat().st_size
        assert folded > 2**20, f"only {folded} bytes reached the document file while writing"
        assert wal < 10 * 2**20, f"the WAL grew to {wal} bytes: it is not being reused"
    assert not Path(f"{path}-wal").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="names file descriptors through /proc")
@pytest.mark.parametrize("durability, synced", [("crash", True), ("full", False), (None, True)])
def test_wal_is_synced_soon_after_commits_without_per_commit_sync(tmp_path, monkeypatch, durability, synced):
    """The default (None here) is "crash": no fsync per commit, the WAL synced within SYNC_SECONDS."""
    from studio.history import background
    from studio.history.schema import DEFAULT_DURABILITY

    assert DEFAULT_DURABILITY == "crash"

    monkeypatch.setattr(background, "SYNC_SECONDS", 0.05)
    real_fsync, calls = os.fsync, []

    def fsync(fd: int) -> None:
        calls.append(os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    monkeypatch.setattr(background.os, "fsync", fsync)
    options = {} if durability is None else {"durability": durability}
    with HistoryStore.create(tmp_path / "doc.studio", **options) as store:
        store.append(ev.setting_event("prompt", "synced soon")).result()
        time.sleep(0.5)
        wal_syncs = [path for path in calls if path.endswith("doc.studio-wal")]
        assert bool(wal_syncs) == synced


def test_closed_store_refuses_appends(tmp_path):
    store = HistoryStore.create(tmp_path / "doc.studio")
    store.close()
    with pytest.raises(HistoryError, match="closed"):
        store.append(ev.setting_event("prompt", "late"))
