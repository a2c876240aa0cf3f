"""`studio history` commands: log, check, export, import, feedback, restore."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys

import numpy as np
import pytest

from studio.cli import main
from studio.history import events as ev
from studio.history.store import HistoryStore


@pytest.fixture
def document(tmp_path):
    path = tmp_path / "doc.studio"
    with HistoryStore.create(path) as store:
        store.append(ev.snapshot_event(width=32, height=32, layers=[
            ev.LayerContent("edge", "edge", {}, np.zeros((32, 32), np.uint8))]))
        store.append(ev.stroke_event("edge", x=1, y=2, patch=np.full((3, 3), 255, np.uint8)))
        store.append(ev.setting_event("prompt", "a quiet harbour"))
        store.append(ev.generation_event(
            request={"prompt": "a quiet harbour", "controls": []}, control_images=[],
            results=[np.zeros((32, 32, 3), np.uint8)], models={}, seed=3, timings={})).result()
    return path


def _generation_id(path) -> int:
    with HistoryStore.open(path, readonly=True) as store:
        return store.generations()[0].id


def test_log_text_and_json(document, capsys):
    assert main(["history", "log", str(document)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 5 and "stroke" in lines[2] and "a quiet harbour" in lines[3]
    assert main(["history", "log", str(document), "--json", "--kind", "setting", "--kind", "generation"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["kind"] for r in records] == ["setting", "generation"]
    assert records[0]["payload"] == {"field": "prompt", "value": "a quiet harbour"}
    assert {"id", "time", "revision", "parent", "branch"} <= records[0].keys()
    assert main(["history", "log", str(document), "--json", "--search", "harbour", "--limit", "1"]) == 0
    assert [json.loads(x)["kind"] for x in capsys.readouterr().out.splitlines()] == ["generation"]


def test_check_passes_sound_documents_and_fails_damaged_ones(document, tmp_path, capsys):
    assert main(["history", "check", str(document)]) == 0
    assert "ok" in capsys.readouterr().out
    conn = sqlite3.connect(document)
    conn.execute("UPDATE blobs SET data = zeroblob(10) WHERE media = 'png' AND id = (SELECT MIN(id) FROM blobs)")
    conn.execute("DELETE FROM events WHERE kind = 'setting'")
    conn.commit()
    conn.close()
    assert main(["history", "check", str(document)]) == 1
    err = capsys.readouterr().err
    assert "does not match its hash" in err and "has no event" in err
    junk = tmp_path / "junk.studio"
    junk.write_bytes(b"\x00" * 500)
    assert main(["history", "check", str(junk)]) == 2
    assert "not a ControlNet Studio document" in capsys.readouterr().err


def test_export_and_import_commands(document, tmp_path, capsys):
    archive, copy = tmp_path / "doc.zip", tmp_path / "copy.studio"
    assert main(["history", "export", str(document), "--out", str(archive)]) == 0
    assert "exported 5 events" in capsys.readouterr().out
    assert main(["history", "import", str(archive), "--out", str(copy)]) == 0
    assert main(["history", "import", str(archive), "--out", str(copy)]) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(["history", "check", str(copy)]) == 0


def test_feedback_command(document, capsys):
    generation = _generation_id(document)
    assert main(["history", "feedback", str(document), "--generation", str(generation), "--accept"]) == 0
    assert main(["history", "feedback", str(document), "--generation", str(generation), "--rating", "4",
                 "--comment", "calm light"]) == 0
    with HistoryStore.open(document, readonly=True) as store:
        record = store.generation(generation)
        assert (record.verdict, record.rating, record.feedback[-1].comment) == ("accept", 4, "calm light")
    capsys.readouterr()
    assert main(["history", "feedback", str(document), "--generation", "2", "--reject"]) == 2
    assert "feedback needs a generation" in capsys.readouterr().err
    assert main(["history", "feedback", str(document), "--generation", str(generation)]) == 2
    assert "--accept" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["history", "feedback", str(document), "--generation", str(generation), "--accept", "--reject"])
    with pytest.raises(SystemExit):
        main(["history", "feedback", str(document), "--generation", str(generation), "--rating", "6"])


def test_restore_command(document, capsys):
    assert main(["history", "restore", str(document), "--revision", "3", "--branch", "retry"]) == 0
    assert "retry" in capsys.readouterr().out
    with HistoryStore.open(document, readonly=True) as store:
        assert store.current_branch().name == "retry" and store.head().parent == 3


def test_studio_command_runs_history(document):
    out = subprocess.run([sys.executable, "-m", "studio.cli", "history", "log", str(document), "--json"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.splitlines()) == 5
