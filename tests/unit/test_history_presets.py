"""Training presets: controlnet (image, text, conditioning_image) and preference (Pick-a-Pic v2 columns) folders
from several documents, each loaded back with `datasets`."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.cli import main
from studio.history import events as ev
from studio.history.errors import HistoryError
from studio.history.presets import export_preset
from studio.history.store import HistoryStore


def _document(path: Path, prompt: str, feedback: list[dict], *, kinds=("edge", "pose"), seed=0) -> None:
    """One generation of len(feedback) images with the given per-image feedback."""
    rng = np.random.default_rng(seed)
    request = {"prompt": prompt, "negative_prompt": "", "width": 32, "height": 32, "steps": 4,
               "guidance_scale": 7.0, "seed": 5, "scheduler": "unipc", "batch_size": len(feedback),
               "controls": [{"kind": k, "image": None, "weight": 1.0, "start": 0.0, "end": 1.0, "mode": "balanced"}
                            for k in kinds]}
    controls = [np.full((32, 32, 3), 10 * (i + 1), np.uint8) for i in range(len(kinds))]
    results = [rng.integers(0, 256, (32, 32, 3), dtype=np.uint8) for _ in feedback]
    with HistoryStore.create(path) as store:
        appended = store.append(ev.generation_event(request=request, control_images=controls, results=results,
                                                    seed=5, models={}, timings={})).result()
        for index, given in enumerate(feedback):
            if given:
                store.feedback(appended.event, result=index, **given).result()


@pytest.fixture(scope="module")
def documents(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("presets")
    a, b = folder / "a.studio", folder / "b.studio"
    _document(a, "a red kite", [{"verdict": "accept"}, {"verdict": "reject"}, {"rating": 5}, {"rating": 3}, {}],
              seed=1)
    _document(b, "a green boat", [{"rating": 4}, {"rating": 2}, {"verdict": "accept", "rating": 3}], seed=2,
              kinds=("depth",))
    return [a, b]


def _load(folder: Path, tmp_path: Path):
    import datasets

    return datasets.load_dataset(str(folder), split="train", cache_dir=str(tmp_path / "hf-cache"))


def test_controlnet_preset_has_liked_images_in_the_order_train_controlnet_reads(documents, tmp_path):
    out = tmp_path / "edge-set"
    summary = export_preset(documents, out, format="controlnet", kind="edge")
    assert (summary.rows, summary.documents, summary.images) == (2, 2, 8)  # accepted + 5 stars; b has no edge
    dataset = _load(out, tmp_path)
    assert dataset.column_names == ["image", "text", "conditioning_image"]
    row = dataset[0]
    assert isinstance(row["image"], Image.Image) and row["text"] == "a red kite"
    assert np.asarray(row["conditioning_image"]).max() == 10 and row["image"].size == (32, 32)
    card = (out / "README.md").read_text()
    assert "data/train-*" in card and "| `conditioning_image` | Image |" in card and "- rows: 2" in card

    depth = export_preset(documents, tmp_path / "depth-low", format="controlnet", kind="depth", min_rating=3)
    assert depth.rows == 2  # 4 stars and accepted-with-3 stars; 2 stars fails
    assert export_preset(documents, tmp_path / "depth", format="controlnet", kind="depth").rows == 1


def test_preference_preset_has_pick_a_pic_v2_columns(documents, tmp_path):
    out = tmp_path / "pairs"
    summary = export_preset(documents, out, format="preference")
    # a: accepted > rejected and 5 > 3 stars (the accepted image has no stars to compare with the rated ones);
    # b: 4 > 2, 4 > 3 and 3 > 2 stars (one verdict alone decides nothing)
    assert summary.rows == 2 + 3
    dataset = _load(out, tmp_path)
    for name in ("caption", "jpg_0", "jpg_1", "label_0", "label_1"):
        assert name in dataset.column_names
    assert str(dataset.features["jpg_0"].dtype) == "binary" and dataset.features["label_0"].dtype == "float64"
    rows = [dataset[i] for i in range(dataset.num_rows)]
    for row in rows:
        assert row["label_0"] + row["label_1"] == 1.0
        best = row["jpg_0"] if row["label_0"] == 1.0 else row["jpg_1"]
        assert hashlib.sha256(best).hexdigest() == row["best_image_uid"]
        assert hashlib.sha256(row["jpg_0"]).hexdigest() == row["image_0_uid"] < row["image_1_uid"]
        Image.open(io.BytesIO(row["jpg_1"])).verify()
    assert {row["caption"] for row in rows} == {"a red kite", "a green boat"}
    assert {row["label_0"] for row in rows} == {0.0, 1.0}


def test_preset_errors_lose_nothing(documents, tmp_path):
    taken = tmp_path / "taken"
    taken.mkdir()
    (taken / "mine.txt").write_text("keep")
    with pytest.raises(HistoryError, match="not an empty folder"):
        export_preset(documents, taken, format="preference")
    assert (taken / "mine.txt").read_text() == "keep"
    with pytest.raises(HistoryError, match="--kind"):
        export_preset(documents, tmp_path / "x", format="controlnet")
    with pytest.raises(HistoryError, match="does not exist"):
        export_preset([tmp_path / "missing.studio"], tmp_path / "y", format="preference")
    not_ours = tmp_path / "notes.studio"
    not_ours.write_text("hello")
    with pytest.raises(HistoryError, match="not a ControlNet Studio document"):
        export_preset([documents[0], not_ours], tmp_path / "z", format="preference")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.studio", "taken"]


def test_export_command_formats(documents, tmp_path, capsys):
    out = tmp_path / "cn"
    assert main(["history", "export", *map(str, documents), "--format", "controlnet", "--kind", "pose",
                 "--min-rating", "5", "--out", str(out)]) == 0  # 5 stars, and the accepted image without stars
    assert "exported 2 controlnet rows from 2 document(s)" in capsys.readouterr().out
    assert main(["history", "export", *map(str, documents), "--out", str(tmp_path / "two.zip")]) == 2
    assert "one document" in capsys.readouterr().err
