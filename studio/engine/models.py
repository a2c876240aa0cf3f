"""Loading located models into diffusers objects, and checking that a ControlNet fits its base model.

Base models load as `StableDiffusionPipeline` (SD 1.x/2.x) or `StableDiffusionXLPipeline`, from a diffusers folder
(`from_pretrained`) or a single checkpoint (`from_single_file` with a local config folder); ControlNets load as
`ControlNetModel` the same two ways, and ControlNet Union checkpoints as `ControlNetUnionModel` (union.py).
Everything is `local_files_only`. Any loading failure becomes a `ModelError`
naming the file.
"""

from __future__ import annotations

from typing import Any

from studio.engine.errors import ModelError
from studio.engine.sources import FAMILY_NAMES, LocatedModel

_LOAD_ERRORS = (OSError, ValueError, RuntimeError, KeyError, TypeError, AttributeError)


def quiet_loading() -> None:
    """Silence diffusers' and transformers' loading progress bars and warnings (Studio reports its own)."""
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    diffusers_logging.disable_progress_bar()
    diffusers_logging.set_verbosity_error()
    transformers_logging.disable_progress_bar()
    transformers_logging.set_verbosity_error()


def family_of(unet_config: Any) -> str:
    """"sdxl", "sd2" or "sd1" from a UNet or ControlNet config (SDXL adds text-time embeddings)."""
    if unet_config.get("addition_embed_type") == "text_time":
        return "sdxl"
    return "sd2" if unet_config.get("cross_attention_dim") == 1024 else "sd1"


def _pipeline_class(located: LocatedModel):
    from diffusers import StableDiffusionPipeline, StableDiffusionXLPipeline

    index_dir = located.path if located.layout == "folder" else located.config_dir
    from studio.engine.sources import read_model_index

    class_name = read_model_index(index_dir / "model_index.json").get("_class_name")
    if class_name is None:
        raise ModelError(f"No \"_class_name\" in the model_index.json for {located.path} in {index_dir}.")
    return StableDiffusionXLPipeline if "XL" in class_name else StableDiffusionPipeline


def _check_complete(model: Any, located: LocatedModel) -> None:
    missing = [name for name, p in model.named_parameters() if p.device.type == "meta"]
    if missing:
        raise ModelError(f"{located.path} lacks weights for {len(missing)} tensors (e.g. {missing[0]}); "
                         "it does not match its config.")


def load_base(located: LocatedModel, *, dtype: Any, allow_pickle: bool) -> Any:
    """Load a base model as a text-to-image pipeline on the CPU in `dtype`."""
    from diffusers import StableDiffusionXLPipeline

    quiet_loading()
    cls = _pipeline_class(located)
    extra: dict[str, Any] = {"add_watermarker": False} if cls is StableDiffusionXLPipeline else {
        "safety_checker": None, "feature_extractor": None, "requires_safety_checker": False}
    try:
        if located.layout == "folder":
            pipe = cls.from_pretrained(located.path, dtype=dtype, local_files_only=True,
                                       use_safetensors=None if allow_pickle else True, **extra)
        else:
            pipe = cls.from_single_file(str(located.path), config=str(located.config_dir), dtype=dtype,
                                        local_files_only=True, **extra)
    except _LOAD_ERRORS as exc:
        raise ModelError(f"Cannot load the base model {located.path}: {exc}") from exc
    for component in (pipe.unet, pipe.vae, pipe.text_encoder):
        _check_complete(component, located)
    return pipe


def load_controlnet(located: LocatedModel, *, dtype: Any, allow_pickle: bool) -> Any:
    """Load a ControlNet on the CPU in `dtype`."""
    from diffusers import ControlNetModel

    quiet_loading()
    if located.is_union:
        from studio.engine.union import load_union

        model = load_union(located, dtype=dtype, allow_pickle=allow_pickle, errors=_LOAD_ERRORS)
        _check_complete(model, located)
        return model
    try:
        if located.layout == "folder":
            model = ControlNetModel.from_pretrained(located.path, dtype=dtype, local_files_only=True,
                                                    use_safetensors=None if allow_pickle else True)
        else:
            model = ControlNetModel.from_single_file(str(located.path), config=str(located.config_dir),
                                                     dtype=dtype, local_files_only=True)
    except _LOAD_ERRORS as exc:
        raise ModelError(f"Cannot load the {located.role} ControlNet {located.path}: {exc}") from exc
    _check_complete(model, located)
    return model


def _describe(config: Any) -> str:
    return f"{FAMILY_NAMES[family_of(config)]}, cross-attention width {config.get('cross_attention_dim')}"


def check_controlnet_fits(*, controlnet: Any, controlnet_at: LocatedModel, unet: Any, base_at: LocatedModel) -> None:
    """Raise `ModelError` naming both models when the ControlNet cannot drive the base model's UNet."""
    cn, base = controlnet.config, unet.config
    checks = (
        ("family", family_of(cn), family_of(base)),
        ("cross-attention width", cn.get("cross_attention_dim"), base.get("cross_attention_dim")),
        ("block channels", list(cn.get("block_out_channels")), list(base.get("block_out_channels"))),
        ("layers per block", cn.get("layers_per_block"), base.get("layers_per_block")),
        # out_channels: a 9-channel inpainting UNet still denoises 4-channel latents, which its ControlNets take
        ("latent channels", cn.get("in_channels"), base.get("out_channels")),
    )
    for what, cn_value, base_value in checks:
        if cn_value != base_value:
            raise ModelError(
                f"The {controlnet_at.role} ControlNet {controlnet_at.path} ({_describe(cn)}) does not fit the base "
                f"model {base_at.path} ({_describe(base)}): {what} {cn_value} vs {base_value}."
            )
