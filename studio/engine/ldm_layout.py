"""Diffusers -> original (LDM) key layout, for writing single-file checkpoints of SD 1.x-style models.

Real single-file checkpoints (`v1-5-pruned.safetensors`, `control_v11p_sd15_canny.safetensors`) use the key names
of the original latent-diffusion code: `model.diffusion_model.input_blocks.1.0.in_layers.0.weight`,
`first_stage_model.encoder.down.0.block.0...`, `cond_stage_model.transformer.text_model...`,
`control_model.zero_convs.0.0.weight`. diffusers converts that layout on load; this module writes it, so that the
tiny models can exercise the real single-file loading path. The fixed names come from diffusers' own table
(`DIFFUSERS_TO_LDM_MAPPING`); the block numbering follows the LDM UNet (input block 0 is `conv_in`, then
`layers_per_block` layers and one down-sampler per level; output blocks hold `layers_per_block + 1` layers per
level, the last one carrying the up-sampler).
"""

from __future__ import annotations

import re
from typing import Any

from studio.engine.errors import EngineError

UNET_PREFIX = "model.diffusion_model."
VAE_PREFIX = "first_stage_model."
CLIP_PREFIX = "cond_stage_model.transformer."
CONTROLNET_PREFIX = "control_model."

_RESNET_NAMES = {"norm1": "in_layers.0", "conv1": "in_layers.2", "norm2": "out_layers.0",
                 "conv2": "out_layers.3", "time_emb_proj": "emb_layers.1", "conv_shortcut": "skip_connection"}
_VAE_ATTENTION_NAMES = {"group_norm": "norm", "to_q": "q", "to_k": "k", "to_v": "v", "to_out.0": "proj_out"}


def _ldm_tables() -> dict[str, Any]:
    from diffusers.loaders.single_file_utils import DIFFUSERS_TO_LDM_MAPPING

    return DIFFUSERS_TO_LDM_MAPPING


def _resnet(name: str, rest: str) -> str:
    return f"{_RESNET_NAMES[name]}.{rest}"


def _encoder_key(key: str, config: Any) -> str | None:
    """LDM name of a down/mid-block key shared by the UNet and the ControlNet; None if not such a key."""
    per_level = config["layers_per_block"] + 1
    if m := re.fullmatch(r"down_blocks\.(\d+)\.resnets\.(\d+)\.(\w+)\.(.+)", key):
        index = 1 + int(m[1]) * per_level + int(m[2])
        return f"input_blocks.{index}.0.{_resnet(m[3], m[4])}"
    if m := re.fullmatch(r"down_blocks\.(\d+)\.attentions\.(\d+)\.(.+)", key):
        return f"input_blocks.{1 + int(m[1]) * per_level + int(m[2])}.1.{m[3]}"
    if m := re.fullmatch(r"down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.+)", key):
        return f"input_blocks.{1 + int(m[1]) * per_level + per_level - 1}.0.op.{m[2]}"
    if m := re.fullmatch(r"mid_block\.resnets\.(\d+)\.(\w+)\.(.+)", key):
        return f"middle_block.{2 * int(m[1])}.{_resnet(m[2], m[3])}"
    if m := re.fullmatch(r"mid_block\.attentions\.0\.(.+)", key):
        return f"middle_block.1.{m[1]}"
    return None


def _fixed_names(table: dict[str, Any], config: Any) -> dict[str, str]:
    names = dict(table["layers"])
    if config.get("addition_embed_type") == "text_time":
        names.update(table["addition_embed_type"])
    return names


def unet_to_ldm(state: dict[str, Any], config: Any) -> dict[str, Any]:
    """UNet2DConditionModel state dict -> `model.diffusion_model.*` keys."""
    fixed = _fixed_names(_ldm_tables()["unet"], config)
    per_level = config["layers_per_block"] + 1
    up_with_attention = {i for i, kind in enumerate(config["up_block_types"]) if "CrossAttn" in kind}
    out = {}
    for key, value in state.items():
        name = fixed.get(key) or _encoder_key(key, config)
        if name is None and (m := re.fullmatch(r"up_blocks\.(\d+)\.resnets\.(\d+)\.(\w+)\.(.+)", key)):
            name = f"output_blocks.{int(m[1]) * per_level + int(m[2])}.0.{_resnet(m[3], m[4])}"
        elif name is None and (m := re.fullmatch(r"up_blocks\.(\d+)\.attentions\.(\d+)\.(.+)", key)):
            name = f"output_blocks.{int(m[1]) * per_level + int(m[2])}.1.{m[3]}"
        elif name is None and (m := re.fullmatch(r"up_blocks\.(\d+)\.upsamplers\.0\.conv\.(.+)", key)):
            level = int(m[1])
            slot = 2 if level in up_with_attention else 1
            name = f"output_blocks.{level * per_level + per_level - 1}.{slot}.conv.{m[2]}"
        if name is None:
            raise EngineError(f"No original-layout name for UNet weight {key!r}.")
        out[UNET_PREFIX + name] = value
    return out


def controlnet_to_ldm(controlnet: Any) -> dict[str, Any]:
    """ControlNetModel -> `control_model.*` keys (zero_convs, input_hint_block, middle_block_out...)."""
    config = controlnet.config
    fixed = _fixed_names(_ldm_tables()["controlnet"], config)
    out = {}
    for key, value in controlnet.state_dict().items():
        name = fixed.get(key) or _encoder_key(key, config)
        if name is None and (m := re.fullmatch(r"controlnet_down_blocks\.(\d+)\.(\w+)", key)):
            name = f"zero_convs.{m[1]}.0.{m[2]}"
        elif name is None and (m := re.fullmatch(r"controlnet_mid_block\.(\w+)", key)):
            name = f"middle_block_out.0.{m[1]}"
        elif name is None and (m := re.fullmatch(r"controlnet_cond_embedding\.blocks\.(\d+)\.(\w+)", key)):
            name = f"input_hint_block.{2 * (int(m[1]) + 1)}.{m[2]}"
        if name is None:
            raise EngineError(f"No original-layout name for ControlNet weight {key!r}.")
        out[CONTROLNET_PREFIX + name] = value.contiguous()
    return out


def vae_to_ldm(state: dict[str, Any], config: Any) -> dict[str, Any]:
    """AutoencoderKL state dict -> `first_stage_model.*` keys (attention projections as 1x1 convolutions)."""
    fixed = _ldm_tables()["vae"]
    levels = len(config["up_block_types"])
    out = {}
    for key, value in state.items():
        name = fixed.get(key)
        if m := re.fullmatch(r"encoder\.down_blocks\.(\d+)\.resnets\.(\d+)\.(.+)", key):
            name = f"encoder.down.{m[1]}.block.{m[2]}.{m[3].replace('conv_shortcut', 'nin_shortcut')}"
        elif m := re.fullmatch(r"encoder\.down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.+)", key):
            name = f"encoder.down.{m[1]}.downsample.conv.{m[2]}"
        elif m := re.fullmatch(r"decoder\.up_blocks\.(\d+)\.resnets\.(\d+)\.(.+)", key):
            rest = m[3].replace("conv_shortcut", "nin_shortcut")
            name = f"decoder.up.{levels - 1 - int(m[1])}.block.{m[2]}.{rest}"
        elif m := re.fullmatch(r"decoder\.up_blocks\.(\d+)\.upsamplers\.0\.conv\.(.+)", key):
            name = f"decoder.up.{levels - 1 - int(m[1])}.upsample.conv.{m[2]}"
        elif m := re.fullmatch(r"(encoder|decoder)\.mid_block\.resnets\.(\d+)\.(.+)", key):
            name = f"{m[1]}.mid.block_{int(m[2]) + 1}.{m[3].replace('conv_shortcut', 'nin_shortcut')}"
        elif m := re.fullmatch(r"(encoder|decoder)\.mid_block\.attentions\.0\.(group_norm|to_q|to_k|to_v|to_out\.0)"
                               r"\.(weight|bias)", key):
            name = f"{m[1]}.mid.attn_1.{_VAE_ATTENTION_NAMES[m[2]]}.{m[3]}"
            if m[3] == "weight" and m[2] != "group_norm":
                value = value[:, :, None, None]
        if name is None:
            raise EngineError(f"No original-layout name for VAE weight {key!r}.")
        out[VAE_PREFIX + name] = value.contiguous()
    return out


def clip_to_ldm(state: dict[str, Any]) -> dict[str, Any]:
    """CLIPTextModel state dict -> `cond_stage_model.transformer.text_model.*` keys."""
    return {CLIP_PREFIX + (k if k.startswith("text_model.") else f"text_model.{k}"): v.contiguous()
            for k, v in state.items()}


def pipeline_to_ldm(pipe: Any) -> dict[str, Any]:
    """A StableDiffusionPipeline's UNet, VAE and text encoder as one original-layout state dict."""
    out = unet_to_ldm({k: v.contiguous() for k, v in pipe.unet.state_dict().items()}, pipe.unet.config)
    out.update(vae_to_ldm(pipe.vae.state_dict(), pipe.vae.config))
    out.update(clip_to_ldm(pipe.text_encoder.state_dict()))
    return out
