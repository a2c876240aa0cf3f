"""ControlNet Union (SDXL): one ControlNet for many condition kinds, told the kind by a control type index.

A union checkpoint (xinsir's controlnet-union-sdxl-1.0 and its ProMax version, diffusers' `ControlNetUnionModel`)
has weights a plain `ControlNetModel` lacks: `task_embedding`, `transformer_layes.*` (sic), `spatial_ch_projs` and
`control_add_embedding`. Loaded as a plain ControlNet those are silently dropped, so Studio detects them, by the
config's `_class_name` or by these keys in the weights, and loads the model as `ControlNetUnionModel`, run through
diffusers' union pipelines (`StableDiffusionXLControlNetUnion{,Img2Img,Inpaint}Pipeline`).

Control types (the published order of the union models; diffusers' example uses 3 for canny):
    0 openpose, 1 depth, 2 hed/pidi/scribble/ted, 3 canny/lineart/anime lineart/mlsd, 4 normal, 5 segment,
    6 tile, 7 repaint (ProMax)
Studio's kinds map to: pose -> 0, depth -> 1, edge -> 3 (an edge layer is clean white lines on black, as canny and
lineart maps are). One union file may serve several kinds (`--controlnet edge=U --controlnet pose=U`); it is loaded
once and each control runs as its own unit (diffusers' `MultiControlNetUnionModel`) with its own weight, start,
end and mode. Union and plain ControlNets cannot be mixed in one generation, and union models exist for SDXL only:
both are refused with a message.

A single union file (diffusers key layout; diffusers' `from_single_file` does not take this class) is loaded
from its safetensors tensors into a model built from `NAME.config/config.json` next to it, or else from the
shipped SDXL ControlNet config with the union sizes read from the tensor shapes.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from studio.engine.errors import ModelError

UNION_CLASS = "ControlNetUnionModel"
UNION_CONTROL_TYPES = {"pose": 0, "depth": 1, "edge": 3}
_TRANS_LAYER = re.compile(r"transformer_layes\.(\d+)\.")
DEFAULT_TRANS_HEADS = 8  # the published union models' value; attention heads do not show in tensor shapes


def has_union_keys(keys: Any) -> bool:
    """True when tensor names include the union-only weights."""
    return any(k == "task_embedding" or k.startswith(("transformer_layes.", "control_add_embedding."))
               for k in keys)


def union_sizes(shapes: dict[str, tuple[int, ...]], *, path: Path) -> dict[str, int]:
    """The union config values that follow from the tensor shapes."""
    try:
        control_types, trans_channels = shapes["task_embedding"]
        proj_channels = shapes["spatial_ch_projs.weight"][0]
    except (KeyError, ValueError, IndexError):
        raise ModelError(f"{path} has some ControlNet Union weights but not task_embedding and spatial_ch_projs; "
                         "it is damaged or not a union model Studio knows.") from None
    layers = {int(m.group(1)) for k in shapes if (m := _TRANS_LAYER.match(k))}
    return {"num_control_type": control_types, "num_trans_channel": trans_channels,
            "num_proj_channel": proj_channels, "num_trans_layer": len(layers)}


def _weight_shapes(folder: Path) -> dict[str, tuple[int, ...]]:
    from studio.engine.sources import read_tensor_shapes

    shapes: dict[str, tuple[int, ...]] = {}
    for file in sorted(folder.glob("*.safetensors")):
        shapes.update(read_tensor_shapes(file, allow_pickle=False))
    return shapes


def folder_union_sizes(folder: Path, config: dict[str, Any]) -> dict[str, int] | None:
    """The union sizes of a diffusers ControlNet folder, or None when it is a plain ControlNet."""
    shapes = _weight_shapes(folder)
    if has_union_keys(shapes):
        return union_sizes(shapes, path=folder)
    if config.get("_class_name") == UNION_CLASS:
        if shapes:
            raise ModelError(f"{folder} says it is a {UNION_CLASS} but its weights have no union tensors "
                             "(task_embedding, transformer_layes.*, control_add_embedding); it is damaged.")
        return {}  # pickle weights only: the config decides
    return None


def control_types(kinds: list[str], *, path: Path, available: int) -> list[int]:
    """The union control type index of each condition kind; refuses kinds the model has no type for."""
    types = []
    for kind in kinds:
        index = UNION_CONTROL_TYPES.get(kind)
        if index is None or index >= available:
            raise ModelError(f"The ControlNet Union model {path} has no control type for {kind} maps "
                             f"(it has {available} types).")
        types.append(index)
    return types


def _union_config(located: Any, sizes: dict[str, int]) -> dict[str, Any]:
    from studio.safe_json import UntrustedJsonError, load_untrusted_json

    file = Path(located.config_dir) / "config.json"
    try:
        config = load_untrusted_json(file.read_bytes(), source=str(file))
    except (OSError, UntrustedJsonError) as exc:
        raise ModelError(f"Cannot read the ControlNet config {file} ({exc}).") from None
    if not isinstance(config, dict):
        raise ModelError(f"{file} is not a ControlNet config (no JSON object).")
    config = {k: v for k, v in config.items() if not k.startswith("_")}
    config.update(sizes)
    config.setdefault("num_trans_head", DEFAULT_TRANS_HEADS)
    return config


def load_union(located: Any, *, dtype: Any, allow_pickle: bool, errors: tuple[type[BaseException], ...]) -> Any:
    """Load a located union ControlNet (folder or single file) on the CPU in `dtype`."""
    from diffusers import ControlNetUnionModel

    sizes = dict(located.union_sizes or {})
    try:
        if located.layout == "folder":
            return ControlNetUnionModel.from_pretrained(located.path, dtype=dtype, local_files_only=True,
                                                        use_safetensors=None if allow_pickle else True, **sizes)
        import torch

        config = _union_config(located, sizes)
        with torch.device("meta"):
            model = ControlNetUnionModel.from_config(config)
        model.load_state_dict(_tensors(Path(located.path)), strict=True, assign=True)
        return model.to(dtype).eval()
    except errors as exc:
        raise ModelError(f"Cannot load the ControlNet Union model {located.path}: {exc}") from exc


def _tensors(path: Path) -> dict[str, Any]:
    """All tensors of a single union file (pickle files only get here when allowed, see sources.py)."""
    from studio.engine.sources import PICKLE_SUFFIXES, load_pickle_state_dict

    if path.suffix.lower() in PICKLE_SUFFIXES:
        return load_pickle_state_dict(path)
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    try:
        return load_file(str(path))
    except SafetensorError as exc:
        raise ModelError(f"{path} is not a readable safetensors file ({exc}).") from None


def is_union_pipeline(pipe: Any) -> bool:
    """True for diffusers' union pipelines (their ControlNet takes a control type)."""
    return "ControlNetUnion" in type(pipe).__name__


def union_arguments(kwargs: dict[str, Any], kinds: list[str], *, controlnet: Any, inpaint_or_refine: bool) -> None:
    """Turn the plain ControlNet call arguments in `kwargs` into the union pipelines' (in place): the maps go to
    `control_image` (always a list) with one `control_mode` per control."""
    if not kinds:
        return
    maps = kwargs.pop("control_image") if inpaint_or_refine else kwargs.pop("image")
    kwargs["control_image"] = maps if isinstance(maps, list) else [maps]
    nets = list(getattr(controlnet, "nets", [controlnet] * len(kinds)))
    kwargs["control_mode"] = [control_types([kind], path=Path(getattr(net, "name_or_path", "") or "union"),
                                            available=net.config.num_control_type)[0]
                              for kind, net in zip(kinds, nets)]
