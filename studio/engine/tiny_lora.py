"""A tiny random LoRA for the tiny models, written the way kohya's sd-scripts (and so most Civitai LoRAs) write one.

Keys: `lora_unet_<module with _ for .>.lora_down.weight` (rank x in), `.lora_up.weight` (out x rank) and `.alpha`
(a scalar) for every attention projection (to_q, to_k, to_v, to_out.0) of the UNet, and `lora_te_...` (SD 1.x)
or `lora_te1_...` / `lora_te2_...` (SDXL) for the text encoders' q/k/v/out projections. The header carries
kohya's `ss_*` metadata and a `modelspec.architecture`. Random up-weights (kohya starts them at zero) make the
LoRA visibly change the picture.
"""

from __future__ import annotations

from pathlib import Path

from studio.engine.errors import EngineError

RANK = 4
ALPHA = 2.0
_UNET_TARGETS = (".to_q", ".to_k", ".to_v", ".to_out.0")
_TE_TARGETS = (".q_proj", ".k_proj", ".v_proj", ".out_proj")


def _kohya_pairs(module, prefix: str, targets: tuple[str, ...], generator, *, text: bool = False) -> dict:
    import torch

    tensors = {}
    for name, layer in module.named_modules():
        if not isinstance(layer, torch.nn.Linear) or not name.endswith(targets):
            continue
        if text and not name.startswith("text_model."):
            name = f"text_model.{name}"  # kohya names CLIP modules as transformers 4 nested them
        key = f"{prefix}_{name.replace('.', '_')}"
        tensors[f"{key}.lora_down.weight"] = torch.randn(RANK, layer.in_features, generator=generator) * 0.3
        tensors[f"{key}.lora_up.weight"] = torch.randn(layer.out_features, RANK, generator=generator) * 0.3
        tensors[f"{key}.alpha"] = torch.tensor(ALPHA)
    return tensors


def write_tiny_lora(base: str | Path, path: str | Path, *, seed: int = 0) -> Path:
    """Write a kohya-format LoRA for the tiny model folder `base` (SD 1.x or SDXL style) to `path`."""
    import json

    import torch
    from diffusers import UNet2DConditionModel
    from safetensors.torch import save_file
    from transformers import CLIPTextModel

    base, path = Path(base), Path(path)
    try:
        sdxl = "XL" in json.loads((base / "model_index.json").read_text(encoding="utf-8"))["_class_name"]
    except (OSError, ValueError, KeyError) as exc:
        raise EngineError(f"{base} is not a tiny model folder ({exc}).") from exc
    generator = torch.Generator().manual_seed(seed)
    unet = UNet2DConditionModel.from_pretrained(base / "unet")
    tensors = _kohya_pairs(unet, "lora_unet", _UNET_TARGETS, generator)
    encoders = [("lora_te1", "text_encoder"), ("lora_te2", "text_encoder_2")] if sdxl else [("lora_te", "text_encoder")]
    for prefix, folder in encoders:
        tensors.update(_kohya_pairs(CLIPTextModel.from_pretrained(base / folder), prefix, _TE_TARGETS, generator,
                                     text=True))
    metadata = {
        "ss_network_module": "networks.lora", "ss_network_dim": str(RANK), "ss_network_alpha": f"{ALPHA:g}",
        "ss_base_model_version": "sdxl_base_v1-0" if sdxl else "sd_v1",
        "modelspec.architecture": "stable-diffusion-xl-v1-base/lora" if sdxl else "stable-diffusion-v1/lora",
        "modelspec.title": path.stem,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in tensors.items()}, str(path), metadata=metadata)
    return path
