"""A full disk: "disk full" is reported once, clearly; every acknowledged edit is kept; once space is back,
editing goes on. The WAL is folded on a size and time budget, so it stays small."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from studio.history import events as ev
from studio.history.errors import DiskFullError
from studio.history.store import HistoryStore


def _stroke(rng) -> ev.NewEvent:
    return ev.stroke_event("edge", x=0, y=0, patch=rng.integers(0, 256, (60, 60), dtype=np.uint8))


def _limit_pages(store: HistoryStore, extra: int | None) -> None:
    """Make the database 'full' `extra` pages from now (None: no limit) on the writer's own connection, the way
    a full disk makes SQLite fail (SQLITE_FULL), while the writer is idle."""
    store.flush()
    conn = store._writer._conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages + extra if extra is not None else 2**30}")


def test_disk_full_is_reported_once_and_acknowledged_edits_are_kept(tmp_path):
    path = tmp_path / "doc.studio"
    rng = np.random.default_rng(0)
    with HistoryStore.create(path) as store:
        store.append(ev.snapshot_event(width=64, height=64, layers=[
            ev.LayerContent("edge", "edge", {}, np.zeros((64, 64), np.uint8))])).result()
        _limit_pages(store, 6)
        futures = [store.append(_stroke(rng)) for _ in range(20)]
        store.flush()
        acked = [f.result().event for f in futures if f.exception() is None]
        errors = [f.exception() for f in futures if f.exception() is not None]
        assert errors and all(isinstance(e, DiskFullError) for e in errors)
        assert [e.repeat for e in errors] == [False] + [True] * (len(errors) - 1)  # said once
        assert "disk" in str(errors[0]) and "full" in str(errors[0]) and "kept" in str(errors[0])
        _limit_pages(store, None)  # space was freed
        after = store.append(_stroke(rng)).result().event
        _limit_pages(store, 0)
        again = store.append(_stroke(rng))
        store.flush()
        assert isinstance(again.exception(), DiskFullError) and not again.exception().repeat  # a new episode
    with HistoryStore.open(path) as store:
        logged = {e.id for e in store.events(kinds=["stroke"])}
        assert set(acked) | {after} <= logged
        store.state_at()


def test_wal_is_folded_on_a_time_budget_when_writing_pauses(tmp_path, monkeypatch):
    from studio.history import background

    monkeypatch.setattr(background, "WAL_FOLD_SECONDS", 0.1)
    path = tmp_path / "doc.studio"
    rng = np.random.default_rng(1)
    with HistoryStore.create(path) as store:
        store.append(ev.snapshot_event(width=64, height=64, layers=[
            ev.LayerContent("edge", "edge", {}, np.zeros((64, 64), np.uint8))])).result()
        for _ in range(30):
            store.append(_stroke(rng)).result()  # each awaited: its own commit
        before = path.stat().st_size
        time.sleep(0.6)
        assert path.stat().st_size > before  # the helper folded the WAL into the file during the pause
        for _ in range(30):
            store.append(_stroke(rng)).result()  # after a fold the WAL is reused from its start ...
        time.sleep(0.6)
        assert Path(f"{path}-wal").stat().st_size <= background.WAL_SIZE_LIMIT + 2**20  # ... and kept small
