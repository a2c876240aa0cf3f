"""Export to zip (JSONL, PNG/JSON blobs, per-image Parquet, card) and import of untrusted archives."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from pathlib import Path
from typing import Callable

import numpy as np
import pyarrow.parquet as pq
import pytest

from studio.history import events as ev
from studio.history.check import check_document
from studio.history.errors import HistoryError, ImportRejectedError
from studio.history.export import export_history
from studio.history.importer import ImportLimits, import_history
from studio.history.store import HistoryStore


def _make_document(path: Path) -> dict[str, int]:
    """A small document with every event kind, two branches and two generations with feedback."""
    rng = np.random.default_rng(5)
    with HistoryStore.create(path) as store:
        layers = [
            ev.LayerContent("edge", "edge", {"visible": True}, np.zeros((32, 48), np.uint8)),
            ev.LayerContent("depth", "depth", {}, np.zeros((32, 48), np.uint16)),
            ev.LayerContent("pose", "pose", {}, {"canvas_width": 48, "canvas_height": 32, "people": []}),
            ev.LayerContent("reference", "reference", {}, None),
        ]
        store.append(ev.snapshot_event(width=48, height=32, layers=layers, settings={"steps": 20},
                                       thumbnail=np.zeros((32, 48), np.uint8)))
        for i in range(12):
            store.append(ev.stroke_event("edge", x=i, y=i, patch=rng.integers(0, 256, (5, 5), dtype=np.uint8)))
        store.append(ev.setting_event("prompt", "a red fox in snow"))
        store.append(ev.pose_event("pose", {"canvas_width": 48, "canvas_height": 32,
                                            "people": [{"pose_keypoints_2d": [3.0, 4.0, 1.0]}]}))
        store.append(ev.reference_event("reference", rng.integers(0, 256, (32, 48, 3), dtype=np.uint8)))
        ids = {}
        for n, prompt in enumerate(["a red fox in snow", "a red fox at night"]):
            request = {"prompt": prompt, "negative_prompt": "blurry", "width": 48, "height": 32, "steps": 4,
                       "guidance_scale": 7.5, "seed": None, "scheduler": "unipc",
                       "controls": [{"kind": "edge", "image": None, "weight": 0.8, "start": 0.0, "end": 1.0,
                                     "mode": "balanced"},
                                    {"kind": "pose", "image": None, "weight": 1.0, "start": 0.0, "end": 0.5,
                                     "mode": "prompt"}]}
            controls = [rng.integers(0, 256, (32, 48, 3), dtype=np.uint8) for _ in range(2)]
            results = [rng.integers(0, 256, (32, 48, 3), dtype=np.uint8) for _ in range(2)]
            ids[f"gen{n}"] = store.append(ev.generation_event(
                request=request, control_images=controls, results=results, seed=2**63 + n,
                models={"base": {"name": "tiny-sd", "sha256": "a" * 64}}, timings={"run": 0.5})).result().event
        store.feedback(ids["gen0"], verdict="accept", rating=5, comment="lovely").result()
        store.feedback(ids["gen1"], verdict="reject", result=1).result()
        store.append(ev.chat_event(message="night?", reply="prompt: at night", tool_calls=[], applied=True))
        ids["restored"] = store.restore(5).result().revision
        store.append(ev.stroke_event("edge", x=0, y=0, patch=np.full((3, 3), 9, np.uint8))).result()
    return ids


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> tuple[Path, Path, dict[str, int]]:
    folder = tmp_path_factory.mktemp("export")
    document = folder / "doc.studio"
    ids = _make_document(document)
    archive = folder / "doc.zip"
    summary = export_history(document, archive)
    assert summary.events > 0 and summary.generations == 2 and summary.images == 4
    return document, archive, ids


def test_archive_holds_manifest_events_and_hash_named_blobs(exported):
    document, archive, _ = exported
    with zipfile.ZipFile(archive) as zf, HistoryStore.open(document, readonly=True) as store:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
        events = [json.loads(line) for line in zf.read("events.jsonl").decode().splitlines()]
        assert manifest["schema_version"] == store.schema_version
        assert manifest["counts"]["events"] == len(events) == len(store.events())
        assert manifest["counts"]["generations"] == 2 and manifest["counts"]["branches"] == 2
        assert manifest["current_branch"] == "restore-5" and manifest["exported_at"]
        assert [e["id"] for e in events] == sorted(e["id"] for e in events)
        assert [(e["kind"], e["revision"], e["parent"]) for e in events[:2]] == [("created", 1, None),
                                                                               ("snapshot", 2, 1)]
        blob_names = {n for n in names if n.startswith("blobs/")}
        assert len(blob_names) == manifest["counts"]["blobs"]
        for name in blob_names:
            data = zf.read(name)
            assert hashlib.sha256(data).hexdigest() == Path(name).stem
            if name.endswith(".json"):
                json.loads(data)
            else:
                assert data.startswith(b"\x89PNG")
        for event in events:
            for hash_ in ev.blob_refs(event["kind"], event["payload"]):
                assert any(n.startswith(f"blobs/{hash_}.") for n in blob_names)


def _check_results(rows: list[dict], ids: dict[str, int]) -> None:
    """results.parquet: one row per image, typed parameters, per-image feedback (the batch verdict of gen0 is
    not copied onto its images; gen1's reject names image 1 only)."""
    assert [(r["generation"], r["image_index"]) for r in rows] == [
        (ids["gen0"], 0), (ids["gen0"], 1), (ids["gen1"], 0), (ids["gen1"], 1)]
    first = rows[0]
    assert first["prompt"] == "a red fox in snow" and first["negative_prompt"] == "blurry"
    assert first["steps"] == 4 and first["guidance_scale"] == 7.5 and first["scheduler"] == "unipc"
    assert [r["seed"] for r in rows] == [2**63, 2**63 + 1, 2**63 + 1, 2**63 + 2]
    assert (first["edge_weight"], first["pose_end"], first["pose_mode"], first["depth_weight"]) == (
        0.8, 0.5, "prompt", None)
    assert first["control_depth"] is None and first["seconds_run"] == 0.5
    assert json.loads(first["pose_keypoints"])["people"][0]["pose_keypoints_2d"] == [3.0, 4.0, 1.0]
    assert [r["verdict"] for r in rows] == [None, None, None, "reject"]
    assert [r["kept"] for r in rows] == [None, None, None, False]
    assert (first["generation_verdict"], first["generation_rating"], first["generation_comment"]) == (
        "accept", 5, "lovely")
    assert first["revision"] > 0 and first["branch"] == "main"


def test_results_parquet_loads_with_datasets_as_pil_images(exported, tmp_path):
    _, archive, ids = exported
    with zipfile.ZipFile(archive) as zf:
        parquet = tmp_path / "results.parquet"
        parquet.write_bytes(zf.read("results.parquet"))
        blobs = {Path(n).stem: zf.read(n) for n in zf.namelist() if n.startswith("blobs/")}
        card = zf.read("README.md").decode()
    table = pq.read_table(parquet)
    assert table.num_rows == 4 and table.schema.field("seed").type == "uint64"
    _check_results(table.to_pylist(), ids)

    import datasets
    from PIL import Image

    dataset = datasets.load_dataset("parquet", data_files=str(parquet), split="train",
                                    cache_dir=str(tmp_path / "hf-cache"))
    rows = [dataset[i] for i in range(dataset.num_rows)]
    _check_results(rows, ids)
    assert isinstance(dataset.features["image"], datasets.Image)
    image = rows[3]["image"]
    assert isinstance(image, Image.Image) and image.size == (48, 32)
    assert hashlib.sha256(blobs[rows[3]["image_sha256"]]).hexdigest() == rows[3]["image_sha256"]
    assert np.array_equal(np.asarray(image), np.asarray(Image.open(io.BytesIO(blobs[rows[3]["image_sha256"]]))))
    assert "| `kept` | bool |" in card and "- images: 4" in card and "split: train" in card


def test_first_format_exports_still_import(tmp_path):
    """An archive made by the export before results.parquet (generations.parquet, no card) imports."""
    old = Path(__file__).parent / "fixtures" / "export_v1.zip"
    with zipfile.ZipFile(old) as zf:
        assert "generations.parquet" in zf.namelist() and "results.parquet" not in zf.namelist()
    summary = import_history(old, tmp_path / "old.studio")
    assert summary.events == 5 and check_document(tmp_path / "old.studio") == []
    export_history(tmp_path / "old.studio", tmp_path / "new.zip")
    with zipfile.ZipFile(tmp_path / "new.zip") as zf:
        rows = pq.read_table(io.BytesIO(zf.read("results.parquet"))).to_pylist()
    assert [(r["verdict"], r["rating"], r["seed"]) for r in rows] == [("accept", 5, 100), ("reject", 1, 101)]


def _archive_contents(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist() if name != "manifest.json"}


def test_export_import_export_round_trip(exported, tmp_path):
    document, archive, _ = exported
    imported = tmp_path / "imported.studio"
    summary = import_history(archive, imported)
    assert summary.branches == 2
    again = tmp_path / "again.zip"
    export_history(imported, again)
    first, second = _archive_contents(archive), _archive_contents(again)
    assert first.keys() == second.keys()
    assert first["events.jsonl"] == second["events.jsonl"]
    assert all(first[name] == second[name] for name in first if name.startswith("blobs/"))
    assert pq.read_table(io.BytesIO(first["results.parquet"])).equals(
        pq.read_table(io.BytesIO(second["results.parquet"])))
    assert first["README.md"] == second["README.md"]
    assert check_document(imported) == []
    with HistoryStore.open(document, readonly=True) as a, HistoryStore.open(imported) as b:
        assert a.current_branch().name == b.current_branch().name
        for revision in (a.head().id, next(x.head for x in a.branches() if x.name == "main")):
            sa, sb = a.state_at(revision), b.state_at(revision)
            assert sa.settings == sb.settings and list(sa.layers) == list(sb.layers)
            for name in sa.layers:
                np.testing.assert_array_equal(np.asarray(sa.layers[name].content, dtype=object),
                                              np.asarray(sb.layers[name].content, dtype=object))
        b.append(ev.setting_event("prompt", "continues")).result()  # the imported document is writable


def _rewrite(source: Path, target: Path, change: Callable[[dict[str, bytes]], dict[str, bytes]]) -> Path:
    with zipfile.ZipFile(source) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in change(members).items():
            zf.writestr(name, data)
    return target


def _first_blob(members: dict[str, bytes]) -> str:
    return sorted(n for n in members if n.startswith("blobs/") and n.endswith(".png"))[0]


def _edit_events(members: dict[str, bytes], edit: Callable[[list[dict]], None]) -> dict[str, bytes]:
    events = [json.loads(line) for line in members["events.jsonl"].decode().splitlines()]
    edit(events)
    return {**members, "events.jsonl": "\n".join(json.dumps(e) for e in events).encode()}


def _swap_first_two_strokes(events: list[dict]) -> None:
    events[3], events[4] = events[4], events[3]


BAD_ARCHIVES = {
    "zip slip": (lambda m: {**m, "../evil.png": b"x"}, "unexpected member '../evil.png'"),
    "absolute path": (lambda m: {**m, "/tmp/evil.png": b"x"}, "unexpected member"),
    "blob slip": (lambda m: {**m, "blobs/../../evil.json": b"{}"}, "unexpected member"),
    "unknown member": (lambda m: {**m, "notes.txt": b"hello"}, "unexpected member 'notes.txt'"),
    "tampered blob": (lambda m: {**m, _first_blob(m): m[_first_blob(m)] + b"\x00"}, "does not match its sha256"),
    "missing blob": (lambda m: {k: v for k, v in m.items() if k != _first_blob(m)}, "not in the archive"),
    "no events": (lambda m: {k: v for k, v in m.items() if k != "events.jsonl"}, "events.jsonl is missing"),
    "bad json": (lambda m: {**m, "events.jsonl": b"{not json\n"}, "not valid JSON"),
    "not ours": (lambda m: {**m, "manifest.json": b'{"format": "other"}'}, "not a ControlNet Studio history"),
    "out of order": (lambda m: _edit_events(m, _swap_first_two_strokes), "parent|order"),
    "bad payload": (lambda m: _edit_events(m, lambda e: e[3]["payload"].pop("bbox")), "'bbox' is missing"),
    "orphan": (lambda m: _edit_events(m, lambda e: e[5].update(parent=999)), "not an earlier revision"),
    "stroke outside": (lambda m: _edit_events(m, lambda e: e[3]["payload"].update(bbox=[46, 0, 5, 5])),
                       "does not replay"),
    "miscounted": (lambda m: _edit_events(m, lambda e: e.pop()), "counts|points at a revision"),
}


@pytest.mark.parametrize("case", sorted(BAD_ARCHIVES))
def test_bad_archives_are_refused_and_write_nothing(exported, tmp_path, case):
    change, message = BAD_ARCHIVES[case]
    work = tmp_path / "work"
    work.mkdir()
    bad = _rewrite(exported[1], tmp_path / "bad.zip", change)
    with pytest.raises(ImportRejectedError, match=message):
        import_history(bad, work / "out.studio")
    assert list(work.iterdir()) == []
    assert not (tmp_path / "evil.png").exists() and not Path("/tmp/evil.png").exists()


def test_limits_stop_zip_bombs_and_huge_archives(exported, tmp_path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("manifest.json", b"{}")
        zf.writestr("events.jsonl", b"")
        zf.writestr("blobs/" + "0" * 64 + ".png", b"\x00" * (20 * 2**20))  # 20 MiB of zeros, ~20 KiB zipped
    assert bomb.stat().st_size < 100_000
    limits = ImportLimits(max_member_bytes=2**20)
    with pytest.raises(ImportRejectedError, match="larger than"):
        import_history(bomb, tmp_path / "a.studio", limits=limits)
    with pytest.raises(ImportRejectedError, match="more than"):
        import_history(exported[1], tmp_path / "b.studio", limits=ImportLimits(max_total_bytes=20_000))
    with pytest.raises(ImportRejectedError, match="members"):
        import_history(exported[1], tmp_path / "c.studio", limits=ImportLimits(max_members=10))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb.zip"]


def test_import_errors_for_bad_files_and_targets(exported, tmp_path):
    not_zip = tmp_path / "not.zip"
    not_zip.write_bytes(b"PK but not really")
    with pytest.raises(ImportRejectedError, match="not a readable zip"):
        import_history(not_zip, tmp_path / "x.studio")
    with pytest.raises(HistoryError, match="does not exist"):
        import_history(tmp_path / "missing.zip", tmp_path / "x.studio")
    taken = tmp_path / "taken.studio"
    taken.write_bytes(b"mine")
    with pytest.raises(HistoryError, match="already exists"):
        import_history(exported[1], taken)
    assert taken.read_bytes() == b"mine"
    with pytest.raises(HistoryError, match="does not exist"):
        export_history(exported[0], tmp_path / "no" / "such.zip")
