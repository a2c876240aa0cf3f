"""Damaged documents: `check` reports every problem and never raises, `log` gives one sentence, and `salvage`
copies every event that still reads into a new, sound document."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest

from studio.cli import main
from studio.history import events as ev
from studio.history.check import check_document
from studio.history.errors import HistoryError
from studio.history.salvage import salvage_document
from studio.history.store import HistoryStore

PAGE = 4096


@pytest.fixture(scope="module")
def document(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("damage") / "doc.studio"
    rng = np.random.default_rng(8)
    with HistoryStore.create(path) as store:
        store.append(ev.snapshot_event(width=64, height=48, layers=[
            ev.LayerContent("edge", "edge", {}, np.zeros((48, 64), np.uint8))]))
        for i in range(150):
            store.append(ev.stroke_event("edge", x=i % 50, y=i % 40,
                                         patch=rng.integers(0, 256, (6, 6), dtype=np.uint8), tool=f"pen {i}"))
            if i % 30 == 0:
                store.append(ev.setting_event("prompt", f"a harbour at hour {i}"))
        store.append(ev.generation_event(request={"prompt": "a harbour", "controls": []}, control_images=[],
                                         results=[rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)], models={},
                                         seed=1, timings={})).result()
    assert path.stat().st_size // PAGE >= 25
    return path


def _damaged(document: Path, folder: Path, page: int) -> Path:
    copy = folder / f"page{page}.studio"
    shutil.copy(document, copy)
    with open(copy, "r+b") as handle:
        handle.seek(page * PAGE)
        handle.write(np.random.default_rng(page).integers(0, 256, PAGE, dtype=np.uint8).tobytes())
    return copy


def test_check_log_and_salvage_survive_every_damaged_page(document, tmp_path, capsys):
    with HistoryStore.open(document, readonly=True) as store:
        original = {e.id: e for e in store.events()}
    pages = document.stat().st_size // PAGE
    failing, salvaged_events = 0, []
    for page in range(pages):
        damaged = _damaged(document, tmp_path, page)
        code = main(["history", "check", str(damaged)])  # must not raise
        err = capsys.readouterr().err
        if code == 0:  # a page nothing uses (free list): SQLite agrees the file is sound
            assert sqlite3.connect(damaged).execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            continue
        failing += 1
        if code == 2:  # the header page: not recognisable as a document any more, said in one sentence
            assert err.startswith("studio: ") and err.count("\n") == 1
            continue
        assert code == 1 and "problem(s) found" in err and "studio history salvage" in err
        assert main(["history", "log", str(damaged)]) in (0, 2)  # a listing or one sentence, never a traceback
        assert "Traceback" not in capsys.readouterr().err
        out = tmp_path / f"salvaged{page}.studio"
        try:
            summary = salvage_document(damaged, out)
        except HistoryError as exc:
            assert "Nothing in" in str(exc) and not out.exists()
            continue
        assert check_document(out) == [], page
        with HistoryStore.open(out) as store:
            events = store.events()
            for event in events:  # every kept event is the original one
                if event.id in original:
                    assert event.payload == original[event.id].payload and event.kind == original[event.id].kind
            store.append(ev.setting_event("prompt", "goes on")).result()  # the salvaged document is writable
        salvaged_events.append(len(events))
        assert summary.events + summary.lost >= len(events) - 1
    assert failing >= pages // 2
    assert max(salvaged_events) >= len(original) - 5
    assert np.median(salvaged_events) >= len(original) // 2


def test_check_reports_a_missing_table_and_foreign_tables(document, tmp_path):
    copy = tmp_path / "no-events.studio"
    shutil.copy(document, copy)
    conn = sqlite3.connect(copy)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("DROP TABLE checkpoints")
    conn.commit()
    conn.close()
    problems = check_document(copy)
    assert "the table 'checkpoints' is missing" in problems
    assert main(["history", "check", str(tmp_path / "missing.studio")]) == 2
    missing = tmp_path / "missing.studio"
    assert check_document(missing) == [f"The document {missing} does not exist."]
