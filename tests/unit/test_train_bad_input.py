"""Bad input to `studio train`: an empty export, missing columns, a corrupt image or parquet file, a model of the
wrong kind, an output that exists, running out of memory. Each gives one clear sentence, and nothing is lost:
no half-written output, existing files untouched, the steps done kept in a checkpoint, the failure in the
history. Also: a set written by 🤗 datasets itself (another tool's parquet) trains like the studio's export."""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from engine_fixtures import tiny_sd15, tiny_sdxl  # noqa: F401
from PIL import Image
from train_fixtures import make_document, make_export

from studio.cli import main
from studio.engine.tiny import make_tiny
from studio.history.presets import export_preset
from studio.history.store import HistoryStore
from studio.train.data import load_training_set
from studio.train.errors import TrainError
from studio.train.loop import latest_checkpoint
from studio.train.options import TrainOptions
from studio.train.run import TrainJob, train

FAST = dict(resolution=64, rank=2, batch=2, validation_steps=2, seed=0, validate_every=0, checkpoint_every=0)


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    return make_export(tmp_path_factory.mktemp("bad-data"))


def _png(colour=(200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _write_set(folder, columns: dict) -> None:
    (folder / "data").mkdir(parents=True)
    pq.write_table(pa.table(columns), folder / "data" / "train-00000-of-00001.parquet")


def _job(data, model, out, task="lora", **options) -> TrainJob:
    return TrainJob(task=task, data=data, model=str(model), out=out, kind="edge" if task == "controlnet" else None,
                    options=TrainOptions(**{**FAST, "steps": 2, **options}))


def test_an_empty_export_says_there_is_nothing_to_learn(tiny_sd15, tmp_path):
    document = tmp_path / "empty.studio"
    HistoryStore.create(document).close()  # no generation, no feedback
    export_preset([document], tmp_path / "export", format="controlnet", kind="edge")
    out = tmp_path / "style.safetensors"
    with pytest.raises(TrainError, match="has no rows: the documents had no liked results"):
        train(_job(tmp_path / "export", tiny_sd15.base, out), show_bar=False)
    assert not out.exists() and not (tmp_path / "style.safetensors.train").exists()


def test_missing_columns_corrupt_images_and_files_are_named(tmp_path):
    only_images = tmp_path / "only-images"
    _write_set(only_images, {"image": [{"bytes": _png(), "path": None}]})
    with pytest.raises(TrainError, match="lacks the column.s. text"):
        load_training_set(only_images, need_conditioning=False)
    no_maps = tmp_path / "no-maps"
    _write_set(no_maps, {"image": [{"bytes": _png(), "path": None}], "text": ["a cat"]})
    assert load_training_set(no_maps, need_conditioning=False).rows == 1  # enough for a LoRA
    with pytest.raises(TrainError, match="lacks the column.s. conditioning_image"):
        load_training_set(no_maps, need_conditioning=True)
    corrupt = tmp_path / "corrupt"
    _write_set(corrupt, {"image": [{"bytes": _png(), "path": None}, {"bytes": b"\x89PNG\r\n\x1a\nbroken", "path": None}],
                         "text": ["a cat", "a dog"]})
    with pytest.raises(TrainError, match=r"Row 1 of train-00000-of-00001.parquet \(image\) is not a readable image"):
        load_training_set(corrupt, need_conditioning=False)
    not_parquet = tmp_path / "not-parquet"
    (not_parquet / "data").mkdir(parents=True)
    (not_parquet / "data" / "train.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(TrainError, match="is not a readable parquet file"):
        load_training_set(not_parquet, need_conditioning=False)
    with pytest.raises(TrainError, match="holds no parquet files"):
        load_training_set(tmp_path, need_conditioning=False)
    with pytest.raises(TrainError, match="is not a folder"):
        load_training_set(tmp_path / "nowhere", need_conditioning=False)


def test_the_command_line_prints_one_sentence(tiny_sd15, tmp_path, capsys):
    code = main(["train", "lora", "--data", str(tmp_path / "nowhere"), "--model", str(tiny_sd15.base),
                 "--out", str(tmp_path / "x.safetensors")])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("studio: The training data") and "studio history export" in err[0]
    assert main(["train", "lora", "--data", str(tmp_path), "--model", str(tiny_sd15.base),
                 "--out", str(tmp_path / "x.safetensors"), "--steps", "0"]) == 2
    assert "--steps must be a whole number from 1" in capsys.readouterr().err
    assert main(["train", "lora", "--data", str(tmp_path), "--model", str(tiny_sd15.base),
                 "--out", str(tmp_path / "x.safetensors"), "--resolution", "100"]) == 2
    assert "--resolution must be a multiple of 8" in capsys.readouterr().err


def test_models_of_the_wrong_kind_are_refused(export, tiny_sd15, tiny_sdxl, tmp_path):
    _, data = export
    out = tmp_path / "style.safetensors"
    with pytest.raises(TrainError, match="not a diffusers model folder"):  # a ControlNet is not a base model
        train(_job(data, tiny_sd15.controlnets["edge"], out), show_bar=False)
    inpaint = make_tiny(tmp_path / "inpaint", family="sd15", inpaint=True)
    with pytest.raises(TrainError, match="is an inpainting model"):
        train(_job(data, inpaint.base, out), show_bar=False)
    with pytest.raises(TrainError, match="supported for SD 1.x/2.x"):
        train(_job(data, tiny_sdxl.base, out, text_encoder=True), show_bar=False)
    with pytest.raises(TrainError, match="does not fit the base model"):  # an SD 1.x ControlNet on SDXL
        train(TrainJob(**{**_job(data, tiny_sdxl.base, tmp_path / "cn", task="controlnet").__dict__,
                          "start_from": str(tiny_sd15.controlnets["edge"])}), show_bar=False)
    assert not out.exists() and not (tmp_path / "cn").exists()


def test_an_existing_output_is_never_overwritten(export, tiny_sd15, tmp_path):
    _, data = export
    out = tmp_path / "mine.safetensors"
    out.write_bytes(b"the designer's own LoRA")
    with pytest.raises(TrainError, match="already exists; choose a new file name"):
        train(_job(data, tiny_sd15.base, out), show_bar=False)
    folder = tmp_path / "my-controlnet"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    with pytest.raises(TrainError, match="already exists and is not an empty folder"):
        train(_job(data, tiny_sd15.base, folder, task="controlnet"), show_bar=False)
    assert out.read_bytes() == b"the designer's own LoRA" and (folder / "config.json").read_text() == "{}"
    with pytest.raises(TrainError, match="must end in .safetensors"):
        train(_job(data, tiny_sd15.base, tmp_path / "style.ckpt"), show_bar=False)


def test_out_of_memory_keeps_the_steps_done_and_logs_the_failure(export, tiny_sd15, tmp_path):
    """The allocator's error is raised for real at step 3 (the one this CPU-only machine can raise: torch's
    OutOfMemoryError, which CUDA's is); the run turns it into advice and a resumable checkpoint."""
    document, data = export
    out = tmp_path / "style.safetensors"
    job = TrainJob(**{**_job(data, tiny_sd15.base, out, steps=6, batch=2).__dict__, "document": document})

    def allocate(step, total, loss):
        if step == 3:
            raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

    with pytest.raises(TrainError, match=r"Out of memory at step 4 of 6 \(CUDA out of memory.*try --batch 1.*"
                                         r"The 3 steps done are kept in a checkpoint; add --resume"):
        train(job, on_progress=allocate, show_bar=False)
    assert not out.exists()
    checkpoint = latest_checkpoint(job.work_dir)
    assert checkpoint is not None and checkpoint.name == "step-3"
    assert not list(checkpoint.parent.glob("*.partial"))
    with HistoryStore.open(document, readonly=True) as store:
        failed = [e.payload for e in store.events(kinds=["training"]) if e.payload["status"] == "failed"]
    assert failed and failed[-1]["error"].startswith("Out of memory at step 4") and failed[-1]["output"] is None
    resumed = train(TrainJob(**{**job.__dict__, "resume": True}), show_bar=False)
    assert resumed.status == "ok" and resumed.resumed_from == 3 and out.is_file()


def test_a_half_written_checkpoint_is_not_resumed_from(export, tiny_sd15, tmp_path):
    _, data = export
    out = tmp_path / "style.safetensors"
    job = _job(data, tiny_sd15.base, out, steps=4, checkpoint_every=2)
    assert train(job, show_bar=False).status == "ok"
    checkpoints = job.work_dir / "checkpoints"
    assert sorted(p.name for p in checkpoints.iterdir()) == ["step-2", "step-4"]
    (checkpoints / "step-6.partial").mkdir()  # a run killed while saving
    damaged = checkpoints / "step-4" / "trained.safetensors"
    damaged.write_bytes(damaged.read_bytes()[:100])
    again = TrainJob(**{**job.__dict__, "out": tmp_path / "again.safetensors", "work": job.work_dir,
                        "resume": True, "options": TrainOptions(**{**job.options.__dict__, "steps": 8})})
    with pytest.raises(TrainError, match="step-4 is damaged.*remove it to resume from an older one"):
        train(again, show_bar=False)
    assert not (tmp_path / "again.safetensors").exists()


def test_a_set_written_by_hugging_face_datasets_trains(tiny_sd15, tmp_path):
    """Another tool's parquet: 🤗 datasets' own Image feature encoding (what the hub's ControlNet sets use)."""
    datasets = pytest.importorskip("datasets", reason="datasets is a test extra")
    images = [Image.fromarray(np.full((32, 32, 3), c, np.uint8)) for c in (40, 120, 200)]
    maps = [Image.fromarray(np.full((32, 32, 3), 255 - c, np.uint8)) for c in (40, 120, 200)]
    features = datasets.Features({"image": datasets.Image(), "text": datasets.Value("string"),
                                  "conditioning_image": datasets.Image()})
    table = datasets.Dataset.from_dict({"image": images, "text": ["dark", "mid", "light"],
                                        "conditioning_image": maps}, features=features)
    (tmp_path / "hub-set" / "data").mkdir(parents=True)
    table.to_parquet(str(tmp_path / "hub-set" / "data" / "train-00000-of-00001.parquet"))
    loaded = load_training_set(tmp_path / "hub-set", need_conditioning=True)
    assert loaded.rows == 3 and [r.text for r in loaded.train] == ["dark", "mid"]
    assert loaded.train[0].image.getpixel((0, 0)) == (40, 40, 40)
    out = tmp_path / "from-hub-set"
    report = train(_job(tmp_path / "hub-set", tiny_sd15.base, out, task="controlnet"), show_bar=False)
    assert report.status == "ok" and (out / "config.json").is_file()


def test_feedback_documents_of_another_kind_give_no_rows(tmp_path):
    document = make_document(tmp_path / "edges.studio")
    export_preset([document], tmp_path / "pose-set", format="controlnet", kind="pose")
    with pytest.raises(TrainError, match="no rows"):
        load_training_set(tmp_path / "pose-set", need_conditioning=True)
