"""ControlNet Union (SDXL): detected by config or weights, loaded as ControlNetUnionModel, run through the union
pipelines with a control type per kind; mixes and other families are refused; never a silent plain ControlNet."""

from __future__ import annotations

import json

import numpy as np
import pytest
from engine_fixtures import config_home, stripes, tiny_request, tiny_sd15, tiny_sdxl  # noqa: F401
from safetensors.torch import load_file, save_file

from studio.engine.errors import ModelError
from studio.engine.pipeline import Engine
from studio.engine.request import ControlInput
from studio.engine.settings import ModelSettings
from studio.engine.sources import locate_controlnet
from studio.engine.tiny_union import write_tiny_union
from studio.engine.union import UNION_CONTROL_TYPES, union_arguments


@pytest.fixture(scope="module")
def tiny_union(tiny_sdxl, tmp_path_factory):
    return write_tiny_union(tiny_sdxl.base, tmp_path_factory.mktemp("union"))


def _engine(base, **controlnets) -> Engine:
    settings = ModelSettings.for_model(str(base))
    settings.active_entry().controlnets.update({k: str(v) for k, v in controlnets.items()})
    return Engine(settings)


@pytest.mark.parametrize("form", ["folder", "file"])
def test_a_union_checkpoint_loads_as_a_union_model_and_generates(tiny_sdxl, tiny_union, form):
    from diffusers import ControlNetUnionModel

    source = tiny_union[0] if form == "folder" else tiny_union[1]
    located = locate_controlnet("edge", str(source), allow_pickle=False, base_family="sdxl")
    assert located.is_union and located.union_sizes["num_control_type"] == 8
    engine = _engine(tiny_sdxl.base, edge=source, pose=source)
    result = engine.generate(tiny_request())
    assert len(result.images) == 1 and result.images[0].size == (64, 64)
    (pipe,) = engine._cache._pipelines.values()
    assert type(pipe).__name__ == "StableDiffusionXLControlNetUnionPipeline"
    (model,) = engine._cache._controlnets.values()  # one file serving two kinds is loaded once
    assert isinstance(model, ControlNetUnionModel)
    saved = load_file(str(tiny_union[1]))
    for name in ("task_embedding", "spatial_ch_projs.weight", "control_add_embedding.linear_1.weight"):
        assert np.array_equal(model.state_dict()[name].float().numpy(), saved[name].float().numpy()), name


def test_the_control_type_follows_the_kind(tiny_sdxl, tiny_union):
    folder = tiny_union[0]
    engine = _engine(tiny_sdxl.base, edge=folder, pose=folder, depth=folder)
    sketch = stripes()
    as_edge = engine.generate(tiny_request(controls=[ControlInput("edge", sketch)])).images[0]
    as_pose = engine.generate(tiny_request(controls=[ControlInput("pose", sketch)])).images[0]
    again = engine.generate(tiny_request(controls=[ControlInput("edge", sketch)])).images[0]
    assert np.array_equal(np.asarray(as_edge), np.asarray(again))
    assert not np.array_equal(np.asarray(as_edge), np.asarray(as_pose))  # same model and map, type 3 vs 0
    kwargs = {"image": ["a", "b"]}
    union_arguments(kwargs, ["pose", "edge"], controlnet=engine._cache._controlnets[next(iter(
        engine._cache._controlnets))], inpaint_or_refine=False)
    assert kwargs == {"control_image": ["a", "b"], "control_mode": [0, 3]}
    assert UNION_CONTROL_TYPES == {"pose": 0, "depth": 1, "edge": 3}


def test_union_refine_and_inpaint_use_the_union_pipelines(tiny_sdxl, tiny_union):
    engine = _engine(tiny_sdxl.base, edge=tiny_union[1])
    init = np.full((64, 64, 3), 128, dtype=np.uint8)
    mask = np.zeros((64, 64, 3), dtype=np.uint8)
    mask[16:48, 16:48] = 255
    controls = [ControlInput("edge", stripes())]
    engine.generate(tiny_request(controls=controls, init_image=init, strength=0.5))
    result = engine.generate(tiny_request(controls=controls, init_image=init, mask=mask, strength=0.9))
    names = sorted(type(p).__name__ for p in engine._cache._pipelines.values())
    assert names == ["StableDiffusionXLControlNetUnionImg2ImgPipeline",
                     "StableDiffusionXLControlNetUnionInpaintPipeline"]
    out = np.asarray(result.images[0])
    assert np.array_equal(out[:8, :8], init[:8, :8])  # outside the mask: the original pixels


def test_a_union_folder_that_calls_itself_a_plain_controlnet_is_still_a_union(tiny_sdxl, tiny_union, tmp_path):
    import shutil

    copy = tmp_path / "xinsir-style"
    shutil.copytree(tiny_union[0], copy)
    config = json.loads((copy / "config.json").read_text())
    config["_class_name"] = "ControlNetModel"  # as the first published union repository's config did
    for key in ("num_control_type", "num_trans_channel", "num_proj_channel", "num_trans_layer"):
        config.pop(key)
    (copy / "config.json").write_text(json.dumps(config))
    located = locate_controlnet("edge", str(copy), allow_pickle=False, base_family="sdxl")
    assert located.union_sizes == {"num_control_type": 8, "num_trans_channel": 16, "num_proj_channel": 16,
                                   "num_trans_layer": 1}
    assert _engine(tiny_sdxl.base, edge=copy).generate(tiny_request(controls=[ControlInput("edge", stripes())]))


def test_mixing_union_and_plain_controlnets_is_refused(tiny_sdxl, tiny_union):
    engine = _engine(tiny_sdxl.base, edge=tiny_union[0])  # pose stays the bundled plain ControlNet
    with pytest.raises(ModelError, match="ControlNet Union model and the pose ControlNet .* a plain one"):
        engine.generate(tiny_request())


def test_a_union_model_is_refused_for_sd15(tiny_sd15, tiny_union):
    with pytest.raises(ModelError, match="union models with SDXL base models only .* SD 1.x"):
        _engine(tiny_sd15.base, edge=tiny_union[1]).generate(tiny_request(controls=[ControlInput("edge",
                                                                                                  stripes())]))


def test_damaged_union_files_are_refused(tiny_union, tmp_path):
    tensors = load_file(str(tiny_union[1]))
    del tensors["spatial_ch_projs.weight"]
    broken = tmp_path / "broken.safetensors"
    save_file(tensors, str(broken))
    with pytest.raises(ModelError, match="damaged or not a union model"):
        locate_controlnet("edge", str(broken), allow_pickle=False, base_family="sdxl")
    tensors = load_file(str(tiny_union[1]))
    tensors["task_embedding"] = tensors["task_embedding"][:, :8].contiguous()  # does not fit its config
    wrong = tmp_path / "wrong.safetensors"
    save_file(tensors, str(wrong))
    (tmp_path / "wrong.config").mkdir()
    (tmp_path / "wrong.config" / "config.json").write_bytes((tiny_union[0] / "config.json").read_bytes())
    located = locate_controlnet("edge", str(wrong), allow_pickle=False, base_family="sdxl")
    from studio.engine.models import load_controlnet

    with pytest.raises(ModelError, match="Cannot load the ControlNet Union model"):
        load_controlnet(located, dtype=None, allow_pickle=False)


def test_studio_generate_runs_a_union_file_for_two_kinds_and_names_it_in_the_png(tiny_sdxl, tiny_union, tmp_path,
                                                                                 config_home, capsys):
    import hashlib

    from PIL import Image

    from studio.cli import main
    from studio.engine.metadata import read_png_metadata

    union_file = tiny_union[1]
    sketch, pose = tmp_path / "sketch.png", tmp_path / "pose.png"
    Image.fromarray(stripes()).save(sketch)
    Image.fromarray(stripes(vertical=False)).save(pose)
    out = tmp_path / "out.png"
    args = ["generate", "--model", str(tiny_sdxl.base), "--controlnet", f"edge={union_file}", "--controlnet",
            f"pose={union_file}", "--control", f"edge={sketch}", "--control", f"pose={pose},mode=control",
            "--prompt", "a lighthouse", "--seed", "4", "--steps", "2", "--width", "64", "--height", "64",
            "--out", str(out)]
    assert main(args) == 2  # the two controls share one model but ask for different control modes
    assert "need the same control mode" in capsys.readouterr().err and not out.exists()
    args[args.index(f"pose={pose},mode=control")] = f"pose={pose}"
    assert main(args) == 0
    short = hashlib.sha256(union_file.read_bytes()).hexdigest()[:8]
    parameters, _ = read_png_metadata(out)
    assert parameters.count(f"Model: union [{short}]") == 2


def test_pickle_union_files_load_only_when_allowed_and_hostile_configs_are_refused(tiny_union, tmp_path):
    import shutil

    import torch
    from diffusers import ControlNetUnionModel

    from studio.engine.models import load_controlnet

    pickled = tmp_path / "union.pth"
    torch.save(load_file(str(tiny_union[1])), pickled)
    shutil.copytree(tiny_union[0].parent / "union.config", tmp_path / "union.config")
    with pytest.raises(ModelError, match="Refusing to load"):
        locate_controlnet("edge", str(pickled), allow_pickle=False, base_family="sdxl")
    located = locate_controlnet("edge", str(pickled), allow_pickle=True, base_family="sdxl")
    model = load_controlnet(located, dtype=torch.float32, allow_pickle=True)
    assert isinstance(model, ControlNetUnionModel) and located.identity()["class"] == "ControlNetUnionModel"
    hostile = tmp_path / "hostile"
    shutil.copytree(tiny_union[0], hostile)
    (hostile / "config.json").write_text('["ControlNetUnionModel"]')
    with pytest.raises(ModelError, match="is not a diffusers config"):
        locate_controlnet("edge", str(hostile), allow_pickle=False, base_family="sdxl")
