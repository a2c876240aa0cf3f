"""A tiny random ControlNet Union model shaped after a tiny SDXL base (for tests and demos; see union.py).

    folder, file = write_tiny_union(tiny_sdxl.base, out_dir)   # diffusers folder and single .safetensors file

The single file gets its config folder next to it (`NAME.config/config.json`), as single-file checkpoints of
non-standard sizes need. Every layer is random, the zero-initialised ones included, so the control type and the
control map change the picture.
"""

from __future__ import annotations

from pathlib import Path


def tiny_union_model(base: Path, *, seed: int = 0, control_types: int = 8):
    """A random `ControlNetUnionModel` fitting the UNet in the base folder `base`."""
    import torch
    from diffusers import ControlNetUnionModel, UNet2DConditionModel

    unet = UNet2DConditionModel.from_pretrained(base / "unet", local_files_only=True)
    torch.manual_seed(seed)
    shaped = ControlNetUnionModel.from_unet(unet, conditioning_embedding_out_channels=(4, 8, 8, 16),
                                            load_weights_from_unet=False)
    channels = unet.config.block_out_channels[0]
    config = {k: v for k, v in shaped.config.items() if not k.startswith("_")}
    config.update(num_control_type=control_types, num_trans_channel=channels, num_proj_channel=channels,
                  num_trans_head=8, num_trans_layer=1)
    model = ControlNetUnionModel.from_config(config)
    zero_initialised = [*model.controlnet_down_blocks, model.controlnet_mid_block,
                        model.controlnet_cond_embedding.conv_out, model.spatial_ch_projs]
    with torch.no_grad():
        for layer in zero_initialised:
            layer.weight.normal_(0.0, 0.2)
            layer.bias.normal_(0.0, 0.02)
    return model.eval()


def write_tiny_union(base: str | Path, directory: str | Path, *, seed: int = 0) -> tuple[Path, Path]:
    """Write one tiny union model as a diffusers folder `DIR/union/` and as `DIR/union.safetensors` (with
    `DIR/union.config/`); returns (folder, file)."""
    from safetensors.torch import save_file

    directory = Path(directory)
    model = tiny_union_model(Path(base), seed=seed)
    folder = directory / "union"
    model.save_pretrained(folder, safe_serialization=True)
    file = directory / "union.safetensors"
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(file))
    config_folder = directory / "union.config"
    config_folder.mkdir(exist_ok=True)
    (config_folder / "config.json").write_bytes((folder / "config.json").read_bytes())
    return folder, file
