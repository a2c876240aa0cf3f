"""History ▸ Train from accepted results… without the window: where the model goes, the training set made from
the document, the run in a child process (`studio train --progress json`), cancelling it, its errors, and the
result added to the model settings (the LoRA folder the Generate panel lists; a new model entry with the
ControlNet)."""

from __future__ import annotations

import os
import shutil
import threading

import pytest
from engine_fixtures import tiny_sd15  # noqa: F401
from train_fixtures import make_document

from studio.app.paths import AppPaths
from studio.app.training import TrainRequest, default_request, export_training_set, plan, run_plan
from studio.engine.settings import ModelEntry, ModelSettings
from studio.history.store import HistoryStore
from studio.train.cli import job_from_args
from studio.train.errors import TrainError
from studio.train.loop import latest_checkpoint
from studio.train.process import command_args

FAST = dict(steps=6, lr=5e-3, resolution=64, batch=2, rank=2, validate_every=0, validation_steps=2,
            checkpoint_every=0, device="cpu")
CHILD_ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@pytest.fixture
def setup(tmp_path, tiny_sd15):
    """A base model folder without a loras/ folder, settings naming it, and a document with accepted results."""
    base = tmp_path / "base"
    shutil.copytree(tiny_sd15.base, base, ignore=shutil.ignore_patterns("loras", "samples"))
    settings_file = tmp_path / "config" / "models.json"
    ModelSettings(models={"tiny": ModelEntry(base=str(base), controlnets={"pose": str(base / "controlnets" / "pose")})},
                  active="tiny").save(settings_file)
    paths = AppPaths(model_settings=settings_file, data_dir=tmp_path / "data")
    return make_document(tmp_path / "designs.studio", kinds=("edge", "pose")), paths


def test_where_models_go_and_names_that_are_taken(setup, tmp_path):
    document, paths = setup
    models = ModelSettings.load(paths.model_settings)
    lora = plan(default_request("lora", document=document), document=document, models=models, paths=paths)
    assert lora.out == paths.data_dir / "loras" / "designs-style.safetensors"
    assert lora.lora_dir_to_set == paths.data_dir / "loras"  # no LoRA folder yet: one is made and set
    (paths.data_dir / "loras").mkdir(parents=True)
    (paths.data_dir / "loras" / "designs-style.safetensors").write_bytes(b"taken")
    models.lora_dir = str(paths.data_dir / "loras")
    again = plan(default_request("lora", document=document), document=document, models=models, paths=paths)
    assert again.out.name == "designs-style-2.safetensors" and again.lora_dir_to_set is None
    control = plan(default_request("controlnet", document=document, kind="depth"), document=document,
                   models=models, paths=paths)
    assert control.out == paths.data_dir / "controlnets" / "designs-depth"
    assert control.job().kind == "depth" and control.job().work == control.folder / "work"
    with pytest.raises(TrainError, match="The name must start"):
        plan(TrainRequest(name="../escape"), document=document, models=models, paths=paths)
    with pytest.raises(TrainError, match="--steps must be"):
        plan(TrainRequest(steps=0), document=document, models=models, paths=paths)
    with pytest.raises(TrainError, match="Training starts from the active base model"):
        plan(TrainRequest(), document=document, models=ModelSettings(), paths=paths)


def test_the_command_line_of_a_job_reads_back_as_the_same_job(setup):
    from studio.cli import build_parser

    document, paths = setup
    request = TrainRequest(task="controlnet", kind="pose", name="p", **{**FAST, "rank": 8})
    job = plan(request, document=document, models=ModelSettings.load(paths.model_settings), paths=paths).job()
    assert job_from_args(build_parser().parse_args(["train", *command_args(job)])) == job


def test_a_lora_trained_in_its_own_process_joins_the_lora_folder(setup):
    document, paths = setup
    the_plan = plan(TrainRequest(name="kept", **FAST), document=document,
                    models=ModelSettings.load(paths.model_settings), paths=paths)
    seen = []
    outcome = run_plan(the_plan, settings_file=paths.model_settings, report=seen.append, cancel=threading.Event(),
                       env=CHILD_ENV)
    assert outcome.status == "ok" and outcome.out == paths.data_dir / "loras" / "kept.safetensors"
    assert outcome.out.is_file() and "in the LoRA list" in outcome.message
    assert seen[0] == {"phase": "export"} and seen[1] == {"phase": "train", "rows": 8}  # 4 results x (edge, pose)
    assert [m["step"] for m in seen[2:]] == [1, 2, 3, 4, 5, 6] and all(m["total"] == 6 for m in seen[2:])
    assert ModelSettings.load(paths.model_settings).lora_dir == str(paths.data_dir / "loras")
    with HistoryStore.open(document, readonly=True) as store:
        run = [e.payload for e in store.events(kinds=["training"])][-1]
    assert run["status"] == "ok" and run["output"] == str(outcome.out.resolve())
    assert run["data"]["rows"] == 4  # the same result with two maps is learnt from once


def test_a_controlnet_joins_the_model_list_and_a_cancelled_run_keeps_its_checkpoint(setup):
    document, paths = setup
    models = ModelSettings.load(paths.model_settings)
    the_plan = plan(TrainRequest(task="controlnet", kind="edge", name="edges", **FAST), document=document,
                    models=models, paths=paths)
    outcome = run_plan(the_plan, settings_file=paths.model_settings, report=lambda m: None,
                       cancel=threading.Event(), env=CHILD_ENV)
    assert outcome.status == "ok" and (outcome.out / "config.json").is_file()
    after = ModelSettings.load(paths.model_settings)
    assert after.active == "tiny" and after.models["tiny"] == models.models["tiny"]  # nothing set up changes
    assert after.models["tiny + edges"].controlnets == {"pose": models.models["tiny"].controlnets["pose"],
                                                         "edge": str(outcome.out)}
    long_run = plan(TrainRequest(task="lora", name="long", **{**FAST, "steps": 100000, "checkpoint_every": 0}),
                    document=document, models=after, paths=paths)
    cancel = threading.Event()

    def report(message):
        if message.get("step") == 2:
            cancel.set()

    stopped = run_plan(long_run, settings_file=paths.model_settings, report=report, cancel=cancel, env=CHILD_ENV)
    assert stopped.status == "cancelled" and not long_run.out.exists()
    checkpoint = latest_checkpoint(long_run.work)
    assert checkpoint is not None and int(checkpoint.name.removeprefix("step-")) >= 2


def test_errors_of_the_child_process_are_its_sentence(setup, tmp_path):
    document, paths = setup
    broken = ModelSettings(models={"gone": ModelEntry(base=str(tmp_path / "no-such-model"))}, active="gone")
    the_plan = plan(TrainRequest(name="x", **FAST), document=document, models=broken, paths=paths)
    with pytest.raises(TrainError, match="no-such-model"):
        run_plan(the_plan, settings_file=paths.model_settings, report=lambda m: None, cancel=threading.Event(),
                 env=CHILD_ENV)
    empty = tmp_path / "empty.studio"
    HistoryStore.create(empty).close()
    with pytest.raises(TrainError, match="has no accepted results with a control map yet"):
        export_training_set(plan(TrainRequest(name="y", **FAST), document=empty,
                                 models=ModelSettings.load(paths.model_settings), paths=paths))
