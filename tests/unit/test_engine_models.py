"""Model discovery and loading: folders, single files, the HF cache, refusals and clear errors."""

from __future__ import annotations

import os
import shutil

import pytest
import torch
from engine_fixtures import (  # noqa: F401  (fixtures)
    config_home, fake_hf_cache, tiny_request, tiny_sd15, tiny_sdxl, tiny_single_files,
)

from studio.engine.configs import prepare_base_config
from studio.engine.errors import ModelError
from studio.engine.models import check_controlnet_fits, load_base, load_controlnet
from studio.engine.pipeline import Engine
from studio.engine.settings import ModelSettings
from studio.engine.sources import bundled_controlnets, locate_base, locate_controlnet


def _same_weights(a, b) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_folder_base_and_bundled_controlnets_load(tiny_sd15):
    located = locate_base(str(tiny_sd15.base), allow_pickle=False)
    assert located.layout == "folder" and located.hub_id is None and len(located.fingerprint) == 16
    pipe = load_base(located, dtype=torch.float32, allow_pickle=False)
    assert type(pipe).__name__ == "StableDiffusionPipeline"
    assert set(bundled_controlnets(tiny_sd15.base)) == {"edge", "pose", "depth"}
    cn_at = locate_controlnet("edge", str(tiny_sd15.controlnets["edge"]), allow_pickle=False, base_family=None)
    controlnet = load_controlnet(cn_at, dtype=torch.float32, allow_pickle=False)
    check_controlnet_fits(controlnet=controlnet, controlnet_at=cn_at, unet=pipe.unet, base_at=located)


def test_single_file_base_loads_the_same_weights_as_the_folder(tiny_sd15, tiny_single_files):
    located = locate_base(str(tiny_single_files["base"]), allow_pickle=False)
    assert located.layout == "file" and located.key_layout == "ldm"
    assert located.config_dir.name == "base.config"
    from_file = load_base(located, dtype=torch.float32, allow_pickle=False)
    from_folder = load_base(locate_base(str(tiny_sd15.base), allow_pickle=False), dtype=torch.float32,
                            allow_pickle=False)
    for name in ("unet", "vae", "text_encoder"):
        assert _same_weights(getattr(from_file, name), getattr(from_folder, name)), name


def test_single_file_controlnet_in_original_layout(tiny_sd15, tiny_single_files):
    located = locate_controlnet("edge", str(tiny_single_files["edge"]), allow_pickle=False, base_family="sd1")
    assert located.key_layout == "ldm"
    from_file = load_controlnet(located, dtype=torch.float32, allow_pickle=False)
    from_folder = load_controlnet(locate_controlnet("edge", str(tiny_sd15.controlnets["edge"]), allow_pickle=False,
                                                    base_family=None), dtype=torch.float32, allow_pickle=False)
    assert _same_weights(from_file, from_folder)


def test_single_file_controlnet_in_diffusers_layout(tiny_sd15, tmp_path):
    """A ControlNet's diffusion_pytorch_model.safetensors renamed and moved, with its config as NAME.config/."""
    source = tiny_sd15.controlnets["depth"]
    file = tmp_path / "depth-cn.safetensors"
    shutil.copyfile(source / "diffusion_pytorch_model.safetensors", file)
    (tmp_path / "depth-cn.config").mkdir()
    shutil.copyfile(source / "config.json", tmp_path / "depth-cn.config" / "config.json")
    located = locate_controlnet("depth", str(file), allow_pickle=False, base_family="sd1")
    assert located.key_layout == "diffusers"
    model = load_controlnet(located, dtype=torch.float32, allow_pickle=False)
    reference = load_controlnet(locate_controlnet("depth", str(source), allow_pickle=False, base_family=None),
                                dtype=torch.float32, allow_pickle=False)
    assert _same_weights(model, reference)


def test_hub_id_resolves_from_the_local_cache_only(tiny_sd15, tmp_path, monkeypatch, config_home):
    home = tmp_path / "hf"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    snapshot = fake_hf_cache(home, "studio-tests/tiny-sd", tiny_sd15.base)
    fake_hf_cache(home, "studio-tests/tiny-edge", tiny_sd15.controlnets["edge"])
    located = locate_base("studio-tests/tiny-sd", allow_pickle=False)
    assert located.hub_id == "studio-tests/tiny-sd" and located.path == snapshot
    settings = ModelSettings.for_model("studio-tests/tiny-sd", controlnets={"edge": "studio-tests/tiny-edge"})
    result = Engine(settings).generate(tiny_request())
    assert result.images[0].size == (64, 64)
    assert {m["hub_id"] for m in result.models} == {"studio-tests/tiny-sd", "studio-tests/tiny-edge", None}
    with pytest.raises(ModelError, match="neither a local path nor in the local Hugging Face cache"):
        locate_base("studio-tests/not-downloaded", allow_pickle=False)


def test_pickle_checkpoints_are_refused_unless_allowed(tiny_sd15, tmp_path):
    controlnet = load_controlnet(locate_controlnet("pose", str(tiny_sd15.controlnets["pose"]), allow_pickle=False,
                                                   base_family=None), dtype=torch.float32, allow_pickle=False)
    file = tmp_path / "pose.pth"
    torch.save(controlnet.state_dict(), file)
    with pytest.raises(ModelError, match="pickle files can run code"):
        locate_controlnet("pose", str(file), allow_pickle=False, base_family="sd1")
    (tmp_path / "pose.config").mkdir()
    shutil.copyfile(tiny_sd15.controlnets["pose"] / "config.json", tmp_path / "pose.config" / "config.json")
    allowed = locate_controlnet("pose", str(file), allow_pickle=True, base_family="sd1")
    assert _same_weights(load_controlnet(allowed, dtype=torch.float32, allow_pickle=True), controlnet)


def test_folder_with_only_pickle_weights_is_refused(tiny_sd15, tmp_path):
    folder = tmp_path / "edge"
    shutil.copytree(tiny_sd15.controlnets["edge"], folder)
    (folder / "diffusion_pytorch_model.safetensors").unlink()
    torch.save({"x": torch.zeros(1)}, folder / "diffusion_pytorch_model.bin")
    with pytest.raises(ModelError, match="Refusing to load .*diffusion_pytorch_model.bin"):
        locate_controlnet("edge", str(folder), allow_pickle=False, base_family=None)


def test_mismatched_controlnet_is_refused_naming_both(tiny_sd15, tiny_sdxl):
    settings = ModelSettings.for_model(str(tiny_sd15.base), controlnets={"depth": str(tiny_sdxl.controlnets["depth"])})
    engine = Engine(settings)
    request = tiny_request(controls=tiny_request().controls[:1])
    request.controls[0].kind = "depth"
    with pytest.raises(ModelError) as caught:
        engine.generate(request)
    message = str(caught.value)
    assert str(tiny_sdxl.controlnets["depth"]) in message and str(tiny_sd15.base) in message
    assert "SDXL" in message and "SD 1.x" in message and "does not fit" in message
    request.controls[0].kind = "edge"  # the engine still works with a fitting ControlNet
    assert engine.generate(request).images


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_corrupt_safetensors_gives_a_clear_error(tiny_single_files, tmp_path, damage):
    data = tiny_single_files["base"].read_bytes()
    file = tmp_path / "broken.safetensors"
    file.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00not a header at all" if damage == "garbage"
                     else data[: len(data) // 2])
    with pytest.raises(ModelError, match="not a readable safetensors file; it may be corrupt or truncated"):
        locate_base(str(file), allow_pickle=False)


def test_wrong_things_in_the_wrong_place(tiny_sd15, tiny_single_files, tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        locate_base(str(tmp_path / "nothing-here"), allow_pickle=False)
    with pytest.raises(ModelError, match="no model_index.json"):
        locate_base(str(tiny_sd15.controlnets["edge"]), allow_pickle=False)
    with pytest.raises(ModelError, match="is a ControlNet, not a base model"):
        locate_base(str(tiny_single_files["edge"]), allow_pickle=False)
    with pytest.raises(ModelError, match="is a base model checkpoint, not a ControlNet"):
        locate_controlnet("edge", str(tiny_single_files["base"]), allow_pickle=False, base_family="sd1")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ModelError, match="not a model checkpoint Studio reads"):
        locate_base(str(tmp_path / "notes.txt"), allow_pickle=False)


def test_engine_names_a_missing_controlnet(tiny_single_files, tiny_sd15):
    settings = ModelSettings.for_model(str(tiny_single_files["base"]))
    with pytest.raises(ModelError, match="No edge ControlNet is set up"):
        Engine(settings).generate(tiny_request())


def test_single_file_without_config_uses_shipped_configs_and_cached_tokenizer(
        tiny_sd15, tmp_path, monkeypatch, config_home):
    """The shipped SD 1.5 config folder is completed with a tokenizer from the HF cache."""
    home = tmp_path / "hf"
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    file = tmp_path / "model.safetensors"
    with pytest.raises(ModelError, match="needs its CLIP tokenizer"):
        prepare_base_config("sd1", file=file)
    fake_hf_cache(home, "openai/clip-vit-large-patch14", tiny_sd15.base / "tokenizer")
    folder = prepare_base_config("sd1", file=file)
    from diffusers import UNet2DConditionModel
    from transformers import CLIPTokenizer

    assert UNet2DConditionModel.load_config(folder / "unet")["cross_attention_dim"] == 768
    tokenizer = CLIPTokenizer.from_pretrained(folder / "tokenizer", local_files_only=True)
    assert tokenizer("a cat").input_ids[0] == tokenizer.bos_token_id
    with pytest.raises(ModelError, match="Cannot tell which model family"):
        prepare_base_config(None, file=file)


def test_model_identity_changes_when_the_file_changes(tiny_single_files, tmp_path):
    file = tmp_path / "copy.safetensors"
    shutil.copyfile(tiny_single_files["edge"], file)
    first = locate_controlnet("edge", str(file), allow_pickle=False, base_family="sd1").fingerprint
    assert locate_controlnet("edge", str(file), allow_pickle=False, base_family="sd1").fingerprint == first
    os.utime(file, ns=(1_000_000_000, 1_000_000_000))
    assert locate_controlnet("edge", str(file), allow_pickle=False, base_family="sd1").fingerprint != first


def test_base_identity_ignores_its_bundled_controlnets(tiny_sd15, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(tiny_sd15.base, copy)
    first = locate_base(str(copy), allow_pickle=False).fingerprint
    os.utime(copy / "controlnets" / "edge" / "config.json", ns=(1_000_000_000, 1_000_000_000))
    assert locate_base(str(copy), allow_pickle=False).fingerprint == first
    os.utime(copy / "unet" / "config.json", ns=(1_000_000_000, 1_000_000_000))
    assert locate_base(str(copy), allow_pickle=False).fingerprint != first
