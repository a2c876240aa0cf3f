"""`studio train lora` on the tiny SD 1.x model, on the CPU: the loss falls on a memorisable set, the file is a
diffusers-format LoRA that the engine's --lora loads and that changes the picture, the run is in the history,
and a stopped run resumes from its checkpoint."""

from __future__ import annotations

import json

import numpy as np
import pytest
from engine_fixtures import tiny_request, tiny_sd15, tiny_sdxl  # noqa: F401
from safetensors import safe_open
from train_fixtures import make_export

from studio.cli import main
from studio.engine.lora import LoraInput, locate_lora
from studio.engine.pipeline import Engine
from studio.engine.settings import ModelSettings
from studio.history.store import HistoryStore
from studio.train.data import load_training_set
from studio.train.errors import TrainError
from studio.train.options import TrainOptions
from studio.train.run import TrainJob, train

FAST = dict(resolution=64, rank=4, batch=3, validation_steps=3, seed=0)


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    return make_export(tmp_path_factory.mktemp("lora-data"))


@pytest.fixture(scope="module")
def trained(export, tiny_sd15, tmp_path_factory):
    document, data = export
    out = tmp_path_factory.mktemp("lora-out") / "kept-style.safetensors"
    code = main(["train", "lora", "--data", str(data), "--model", str(tiny_sd15.base), "--out", str(out),
                 "--steps", "80", "--lr", "5e-3", "--resolution", "64", "--rank", "4", "--batch", "3",
                 "--validate-every", "40", "--validation-steps", "3", "--checkpoint-every", "0",
                 "--document", str(document)])
    assert code == 0
    return out


def _picture(engine: Engine, loras=()) -> np.ndarray:
    request = tiny_request(controls=[], loras=list(loras))
    return np.asarray(engine.generate(request).images[0]).astype(int)


def test_loss_falls_and_the_run_is_in_the_history(trained, export):
    document, data = export
    with HistoryStore.open(document, readonly=True) as store:
        runs = store.events(kinds=["training"])
    assert len(runs) == 1
    run = runs[0].payload
    assert run["task"] == "lora" and run["status"] == "ok" and run["error"] is None
    assert run["output"] == str(trained.resolve())
    assert run["data"]["hash"] == load_training_set(data, need_conditioning=False).hash
    assert run["data"]["rows"] == 4 and run["data"]["held_out_rows"] == 1  # the rejected images are not in it
    assert run["settings"]["rank"] == 4 and run["settings"]["steps"] == 80
    losses = [value for _, value in run["losses"]]
    assert len(losses) == 80 and run["steps"] == 80
    # the fixed-noise loss on the training rows: same noise and timesteps before and after
    assert run["eval_loss"]["end"] < 0.9 * run["eval_loss"]["start"]
    assert np.mean(losses[-20:]) < np.mean(losses[:20])
    validation = [p for p in run["validation"]]
    assert [p.rsplit("/", 1)[-1] for p in validation] == ["step-40-0.png", "step-80-0.png"]
    assert all((trained.parent / "kept-style.safetensors.train" / "validation" / p.rsplit("/", 1)[-1]).is_file()
               for p in validation)


def test_the_lora_loads_with_the_engine_and_changes_the_picture(trained, tiny_sd15):
    with safe_open(str(trained), framework="pt") as handle:
        keys = list(handle.keys())
    assert keys and all(k.startswith("unet.") and (".lora_A." in k or ".lora_B." in k) for k in keys)
    located = locate_lora(LoraInput(str(trained)), allow_pickle=False, base_family="sd1", context_width=32)
    assert located.layout == "diffusers"
    engine = Engine(ModelSettings.for_model(str(tiny_sd15.base)))
    plain = _picture(engine)
    styled = _picture(engine, [LoraInput(str(trained), 1.0)])
    off = _picture(engine, [LoraInput(str(trained), 0.0)])
    assert np.abs(styled - plain).mean() > 1.0
    assert np.array_equal(off, plain)
    # and through the command line, as a designer would use it
    out = trained.parent / "with-lora.png"
    assert main(["generate", "--model", str(tiny_sd15.base), "--prompt", "a red house", "--steps", "3",
                 "--width", "64", "--height", "64", "--lora", f"{trained}:0.8", "--out", str(out)]) == 0
    assert out.is_file()


def test_text_encoder_lora_loads_too(export, tiny_sd15, tmp_path):
    _, data = export
    out = tmp_path / "with-text.safetensors"
    job = TrainJob(task="lora", data=data, model=str(tiny_sd15.base), out=out,
                   options=TrainOptions(steps=4, lr=1e-2, text_encoder=True, validate_every=0, checkpoint_every=0,
                                        **FAST))
    assert train(job, show_bar=False).status == "ok"
    with safe_open(str(out), framework="pt") as handle:
        roots = {k.split(".", 1)[0] for k in handle.keys()}
    assert roots == {"unet", "text_encoder"}
    engine = Engine(ModelSettings.for_model(str(tiny_sd15.base)))
    assert np.abs(_picture(engine, [LoraInput(str(out))]) - _picture(engine)).mean() > 0.0


def test_a_stopped_run_resumes_from_its_checkpoint(export, tiny_sd15, tmp_path):
    _, data = export
    out = tmp_path / "resumed.safetensors"
    options = TrainOptions(steps=10, lr=1e-3, validate_every=0, checkpoint_every=4, **FAST)
    job = TrainJob(task="lora", data=data, model=str(tiny_sd15.base), out=out, options=options)
    seen = []

    def stop() -> bool:
        return len(seen) >= 6

    stopped = train(job, on_progress=lambda step, total, loss: seen.append(step), should_stop=stop, show_bar=False)
    assert stopped.status == "cancelled" and stopped.steps == 6 and not out.exists()
    checkpoint = tmp_path / "resumed.safetensors.train" / "checkpoints" / "step-6"
    assert json.loads((checkpoint / "progress.json").read_text())["step"] == 6
    assert not (checkpoint / "model.safetensors").exists()  # only the trained weights, not the whole UNet
    resumed = train(TrainJob(**{**job.__dict__, "resume": True}), show_bar=False)
    assert resumed.status == "ok" and resumed.resumed_from == 6 and out.is_file()
    assert [step for step, _ in resumed.losses] == list(range(1, 11))
    assert resumed.losses[:6] == stopped.losses
    # a checkpoint of another rank is refused with a sentence
    other = TrainJob(**{**job.__dict__, "resume": True, "out": tmp_path / "other.safetensors",
                        "work": job.work_dir, "options": TrainOptions(**{**options.__dict__, "rank": 2,
                                                                          "steps": 20})})
    with pytest.raises(TrainError, match="other weights"):
        train(other, show_bar=False)
    assert not (tmp_path / "other.safetensors").exists()


def test_an_sdxl_lora_trains_and_loads(export, tiny_sdxl, tmp_path):
    """The SDXL path: both text encoders' states and the size/crop time ids feed the UNet."""
    _, data = export
    out = tmp_path / "xl-style.safetensors"
    job = TrainJob(task="lora", data=data, model=str(tiny_sdxl.base), out=out,
                   options=TrainOptions(steps=3, lr=1e-2, validate_every=0, checkpoint_every=0, **FAST))
    report = train(job, show_bar=False)
    assert report.status == "ok" and all(np.isfinite(v) for _, v in report.losses)
    located = locate_lora(LoraInput(str(out)), allow_pickle=False, base_family="sdxl", context_width=64)
    assert located.layout == "diffusers"
    engine = Engine(ModelSettings.for_model(str(tiny_sdxl.base)))
    assert np.abs(_picture(engine, [LoraInput(str(out))]) - _picture(engine)).mean() > 0.0
