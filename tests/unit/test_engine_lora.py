"""LoRAs on tiny models: kohya and diffusers formats, weights, several at once, prompt tags, wrong family, pickle."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from engine_fixtures import stripes, tiny_request, tiny_sd15, tiny_sdxl  # noqa: F401
from safetensors import safe_open
from safetensors.torch import load_file, save_file

from studio.engine.errors import ModelError, RequestError
from studio.engine.lora import LoraInput, parse_lora_arg, split_prompt_loras
from studio.engine.metadata import a1111_parameters
from studio.engine.pipeline import Engine
from studio.engine.request import GenerationRequest
from studio.engine.settings import ModelSettings
from studio.engine.tiny_lora import write_tiny_lora


@pytest.fixture(scope="module")
def kohya_lora(tiny_sd15, tmp_path_factory):
    return write_tiny_lora(tiny_sd15.base, tmp_path_factory.mktemp("loras") / "tiny-style.safetensors")


@pytest.fixture(scope="module")
def engine(tiny_sd15):
    return Engine(ModelSettings.for_model(str(tiny_sd15.base)))


def _image(engine, **overrides) -> np.ndarray:
    request = tiny_request(controls=[tiny_request().controls[0]], **overrides)
    return np.asarray(engine.generate(request).images[0]).astype(int)


def test_tiny_lora_has_the_key_layout_of_kohya_files(kohya_lora):
    with safe_open(str(kohya_lora), framework="pt") as handle:
        keys, metadata = set(handle.keys()), handle.metadata()
    # as sd-scripts writes SD 1.x LoRAs: diffusers module names with "_", lora_down/lora_up/alpha, lora_te_ for CLIP
    assert "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight" in keys
    assert "lora_unet_up_blocks_1_attentions_0_transformer_blocks_0_attn1_to_out_0.lora_up.weight" in keys
    assert "lora_unet_mid_block_attentions_0_transformer_blocks_0_attn1_to_q.alpha" in keys
    assert "lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight" in keys
    assert metadata["ss_network_dim"] == "4" and metadata["ss_base_model_version"] == "sd_v1"


def test_weights_change_the_picture_and_zero_or_none_gives_the_plain_one(engine, kohya_lora):
    plain = _image(engine)
    full = _image(engine, loras=[LoraInput(str(kohya_lora), 1.0)])
    half = _image(engine, loras=[LoraInput(str(kohya_lora), 0.5)])
    off = _image(engine, loras=[LoraInput(str(kohya_lora), 0.0)])
    assert np.abs(full - plain).mean() > 1 and np.abs(half - plain).mean() < np.abs(full - plain).mean()
    assert np.array_equal(off, plain)
    assert np.array_equal(_image(engine), plain)  # the next request without a LoRA is not affected
    result = engine.generate(tiny_request(loras=[LoraInput(str(kohya_lora), 1.0)]))
    assert [m["role"] for m in result.models] == ["base", "edge", "pose", "lora"]
    assert result.models[-1]["weight"] == 1.0


def _kohya_to_peft(kohya: dict, unet, text_encoder) -> dict:
    """The same LoRA in the diffusers/PEFT layout: unet.<module>.lora_A/B.weight, alpha/rank folded into B."""
    out = {}
    for prefix, root, model in (("lora_unet", "unet", unet), ("lora_te", "text_encoder", text_encoder)):
        for name, _ in model.named_modules():
            kohya_name = f"text_model.{name}" if root == "text_encoder" else name  # kohya's CLIP names
            key = f"{prefix}_{kohya_name.replace('.', '_')}"
            if f"{key}.lora_down.weight" in kohya:
                down, up = kohya[f"{key}.lora_down.weight"], kohya[f"{key}.lora_up.weight"]
                scale = float(kohya[f"{key}.alpha"]) / down.shape[0]
                out[f"{root}.{name}.lora_A.weight"] = down
                out[f"{root}.{name}.lora_B.weight"] = (up * scale).contiguous()
    return out


def test_diffusers_format_gives_the_kohya_picture_and_two_loras_stack(engine, kohya_lora, tiny_sd15, tmp_path):
    from diffusers import UNet2DConditionModel
    from transformers import CLIPTextModel

    unet = UNet2DConditionModel.from_pretrained(tiny_sd15.base / "unet")
    text_encoder = CLIPTextModel.from_pretrained(tiny_sd15.base / "text_encoder")
    peft_file = tmp_path / "tiny-style-diffusers.safetensors"
    save_file(_kohya_to_peft(load_file(str(kohya_lora)), unet, text_encoder), str(peft_file))
    from_kohya = _image(engine, loras=[LoraInput(str(kohya_lora), 1.0)])
    from_peft = _image(engine, loras=[LoraInput(str(peft_file), 1.0)])
    assert np.abs(from_kohya - from_peft).max() <= 1
    other = write_tiny_lora(tiny_sd15.base, tmp_path / "other.safetensors", seed=7)
    both = _image(engine, loras=[LoraInput(str(kohya_lora), 1.0), LoraInput(str(other), 1.0)])
    assert np.abs(both - from_kohya).mean() > 1
    with pytest.raises(RequestError, match="twice"):
        _image(engine, loras=[LoraInput(str(kohya_lora), 1.0), LoraInput(str(kohya_lora), 0.5)])


def test_prompt_tags_use_the_lora_folder(tiny_sd15, kohya_lora, engine):
    tagged = Engine(ModelSettings.for_model(str(tiny_sd15.base), lora_dir=str(kohya_lora.parent)))
    by_tag = _image(tagged, prompt="a cat <lora:tiny-style:0.5>")
    by_path = _image(engine, loras=[LoraInput(str(kohya_lora), 0.5)])
    assert np.array_equal(by_tag, by_path)
    with pytest.raises(RequestError, match="No LoRA named 'missing'"):
        _image(tagged, prompt="a cat <lora:missing:1>")
    with pytest.raises(RequestError, match="no LoRA folder"):
        _image(engine, prompt="a cat <lora:tiny-style:1>")


def test_wrong_family_pickle_and_non_lora_files_are_refused(tiny_sdxl, kohya_lora, tiny_sd15, tmp_path):
    sdxl = Engine(ModelSettings.for_model(str(tiny_sdxl.base)))
    with pytest.raises(ModelError, match="is for a cross-attention width of 32; the base model is SDXL"):
        sdxl.generate(tiny_request(controls=[], loras=[LoraInput(str(kohya_lora))]))
    sdxl_lora = write_tiny_lora(tiny_sdxl.base, tmp_path / "xl.safetensors")
    plain = Engine(ModelSettings.for_model(str(tiny_sd15.base)))
    with pytest.raises(ModelError, match="is for SDXL; the base model is SD 1.x"):
        plain.generate(tiny_request(controls=[], loras=[LoraInput(str(sdxl_lora))]))
    image = sdxl.generate(tiny_request(controls=[], loras=[LoraInput(str(sdxl_lora), 1.0)])).images[0]
    assert image.size == (64, 64)
    pickled = tmp_path / "old.pt"
    torch.save(load_file(str(kohya_lora)), pickled)
    with pytest.raises(ModelError, match="Refusing to load"):
        plain.generate(tiny_request(controls=[], loras=[LoraInput(str(pickled))]))
    allowed = Engine(ModelSettings.for_model(str(tiny_sd15.base), allow_pickle=True))
    from_pickle = np.asarray(allowed.generate(tiny_request(controls=[], loras=[LoraInput(str(pickled))])).images[0])
    from_file = np.asarray(plain.generate(tiny_request(controls=[], loras=[LoraInput(str(kohya_lora))])).images[0])
    assert np.array_equal(from_pickle, from_file)
    with pytest.raises(ModelError, match="not a LoRA"):
        plain.generate(tiny_request(controls=[], loras=[LoraInput(str(tiny_sd15.controlnets["edge"] /
                                                                  "diffusion_pytorch_model.safetensors"))]))
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(ModelError, match="not a readable safetensors"):
        plain.generate(tiny_request(controls=[], loras=[LoraInput(str(broken))]))
    with pytest.raises(ModelError, match="does not exist"):
        plain.generate(tiny_request(controls=[], loras=[LoraInput(str(tmp_path / "none.safetensors"))]))


def test_prompt_syntax_arguments_json_and_png_text():
    assert split_prompt_loras("a cat, <lora:style:0.7> in snow <lora:film>") == (
        "a cat, in snow", [("style", 0.7), ("film", 1.0)])
    assert split_prompt_loras("no tags (here:1.2)") == ("no tags (here:1.2)", [])
    assert split_prompt_loras("<lora:a:0.5:0.2>") == ("", [("a", 0.5)])  # A1111's te:unet form; te weight used
    with pytest.raises(RequestError, match="not a number"):
        split_prompt_loras("<lora:a:lots>")
    assert parse_lora_arg("/x/y.safetensors:0.6") == LoraInput("/x/y.safetensors", 0.6)
    assert parse_lora_arg("C:/x/y.safetensors") == LoraInput("C:/x/y.safetensors", 1.0)
    request = GenerationRequest(prompt="a cat", loras=[LoraInput("/l/style.safetensors", 0.8)])
    assert GenerationRequest.from_json(request.to_json()) == request
    assert a1111_parameters(request, seed=1, models=[]).splitlines()[0] == "a cat <lora:style:0.8>"
    with pytest.raises(RequestError, match="LoRA 1 weight"):
        GenerationRequest(prompt="a", loras=[LoraInput("/l/x.safetensors", 99.0)]).validate()
    with pytest.raises(RequestError, match="loras"):
        GenerationRequest.from_dict({"prompt": "a", "loras": [{"path": 3}]})
