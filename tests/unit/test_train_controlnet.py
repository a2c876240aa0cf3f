"""`studio train controlnet` on the tiny SD 1.x model, on the CPU: a new ControlNet made from the base UNet
(zero convolutions: it starts by changing nothing) learns the stripe maps of a memorisable set, the folder it
writes loads through the engine's loader and changes the picture; fine-tuning an existing one (`--from`) works;
a ControlNet of another family is refused before training."""

from __future__ import annotations

import numpy as np
import pytest
from engine_fixtures import tiny_sd15, tiny_sdxl  # noqa: F401
from train_fixtures import make_export, stripes

from studio.cli import main
from studio.engine.pipeline import Engine
from studio.engine.request import ControlInput, GenerationRequest
from studio.engine.settings import ModelSettings
from studio.history.store import HistoryStore
from studio.train.errors import TrainError
from studio.train.options import TrainOptions
from studio.train.run import TrainJob, train

FAST = dict(resolution=64, batch=3, validation_steps=2, seed=0, validate_every=0, checkpoint_every=0)


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    return make_export(tmp_path_factory.mktemp("cn-data"), kind="edge")


@pytest.fixture(scope="module")
def trained(export, tiny_sd15, tmp_path_factory):
    document, data = export
    out = tmp_path_factory.mktemp("cn-out") / "my-edges"
    code = main(["train", "controlnet", "--data", str(data), "--model", str(tiny_sd15.base), "--kind", "edge",
                 "--out", str(out), "--steps", "40", "--lr", "2e-3", "--resolution", "64", "--batch", "3",
                 "--validate-every", "20", "--validation-steps", "2", "--checkpoint-every", "0",
                 "--prompt-dropout", "0.5", "--document", str(document)])
    assert code == 0
    return out


def _picture(base, controlnet, control) -> np.ndarray:
    engine = Engine(ModelSettings.for_model(str(base), controlnets={"edge": str(controlnet)}))
    request = GenerationRequest(prompt="a red house", negative_prompt="", width=64, height=64, steps=3,
                                guidance_scale=5.0, seed=1,
                                controls=[ControlInput("edge", control)] if control is not None else [])
    return np.asarray(engine.generate(request).images[0]).astype(int)


def test_a_new_controlnet_learns_and_the_run_is_logged(trained, export):
    document, _ = export
    assert sorted(p.name for p in trained.iterdir()) == ["config.json", "diffusion_pytorch_model.safetensors"]
    with HistoryStore.open(document, readonly=True) as store:
        runs = [e.payload for e in store.events(kinds=["training"])]
    assert len(runs) == 1
    run = runs[0]
    assert run["task"] == "controlnet" and run["status"] == "ok" and run["data"]["kind"] == "edge"
    assert run["settings"]["start_from"] is None and run["settings"]["prompt_dropout"] == 0.5
    assert run["output"] == str(trained.resolve())
    assert run["eval_loss"]["end"] < 0.9 * run["eval_loss"]["start"]
    assert [p.rsplit("/", 1)[-1] for p in run["validation"]] == ["step-20-0.png", "step-40-0.png"]


def test_the_folder_loads_through_the_engine_and_changes_the_picture(trained, tiny_sd15):
    control = stripes(64, 20)
    plain = _picture(tiny_sd15.base, trained, None)
    controlled = _picture(tiny_sd15.base, trained, control)
    assert np.abs(controlled - plain).mean() > 1.0
    # an untrained ControlNet from the same UNet (zero convolutions) leaves the picture as it is
    from diffusers import ControlNetModel, UNet2DConditionModel

    fresh = trained.parent / "fresh"
    ControlNetModel.from_unet(UNet2DConditionModel.from_pretrained(tiny_sd15.base / "unet")).save_pretrained(fresh)
    assert np.abs(_picture(tiny_sd15.base, fresh, control) - plain).max() <= 1


def test_fine_tuning_an_existing_controlnet(export, tiny_sd15, tmp_path):
    from diffusers import ControlNetModel

    _, data = export
    out = tmp_path / "tuned"
    job = TrainJob(task="controlnet", data=data, model=str(tiny_sd15.base), out=out, kind="edge",
                   start_from=str(tiny_sd15.controlnets["edge"]),
                   options=TrainOptions(steps=3, lr=1e-3, **FAST))
    report = train(job, show_bar=False)
    assert report.status == "ok" and report.steps == 3
    before = ControlNetModel.from_pretrained(tiny_sd15.controlnets["edge"]).state_dict()
    after = ControlNetModel.from_pretrained(out).state_dict()
    assert before.keys() == after.keys()
    assert any(not np.allclose(before[k].numpy(), after[k].numpy()) for k in before)


def test_a_controlnet_of_another_family_is_refused(export, tiny_sd15, tiny_sdxl, tmp_path):
    _, data = export
    out = tmp_path / "wrong"
    job = TrainJob(task="controlnet", data=data, model=str(tiny_sd15.base), out=out, kind="edge",
                   start_from=str(tiny_sdxl.controlnets["edge"]), options=TrainOptions(steps=2, **FAST))
    with pytest.raises(TrainError, match="does not fit the base model"):
        train(job, show_bar=False)
    assert not out.exists() and not (tmp_path / "wrong.train").exists()
