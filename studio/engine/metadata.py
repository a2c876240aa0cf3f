"""Generation metadata in PNG files: the A1111 `parameters` text other SD tools read, plus our request JSON.

`parameters` (tEXt) looks like:

    a cat
    Negative prompt: blurry
    Steps: 4, Sampler: UniPC, CFG scale: 7.0, Seed: 3, Size: 64x64, Model hash: 1a2b3c4d5e, Model: tiny,
    ControlNet 0: "Module: edge, Model: edge [9f8e7d6c5b], Weight: 1.0, ...", Version: ControlNet Studio

(one line after the prompts). `Model hash` is A1111's AutoV2 (sha256[:10] of the checkpoint, or of a diffusers
folder's weight files, see model_hash.py) and a ControlNet's bracket its sha256[:8], as sd-webui-controlnet
writes them; a model whose digest is not known gets no hash rather than a wrong one. `studio_request` (compressed iTXt) holds the JSON of the request that remakes
exactly this image: its seed filled in and batch size 1.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from PIL import Image, PngImagePlugin, UnidentifiedImageError

from studio.engine.errors import RequestError
from studio.engine.request import GenerationRequest
from studio.engine.schedulers import scheduler_label

PARAMETERS_KEY = "parameters"
REQUEST_KEY = "studio_request"
_MODE_LABELS = {"balanced": "Balanced", "prompt": "My prompt is more important",
                "control": "ControlNet is more important"}
_RESIZE_LABELS = {"just_resize": "Just Resize", "crop_and_resize": "Crop and Resize",
                  "resize_and_fill": "Resize and Fill"}


def _model_name(identity: dict[str, Any]) -> str:
    return identity.get("hub_id") or Path(identity["path"]).stem or Path(identity["path"]).name


def _plain(text: str) -> str:
    return text.replace("\n", " ").replace('"', "'")


def image_request(request: GenerationRequest, *, seed: int) -> GenerationRequest:
    """The request that remakes one image of a batch: that image's seed and batch size 1."""
    return dataclasses.replace(request, seed=seed, batch_size=1)


def a1111_parameters(request: GenerationRequest, *, seed: int, models: list[dict[str, Any]]) -> str:
    """The A1111-style `parameters` text for one image made with `seed`."""
    tags = " ".join(f"<lora:{lora.name}:{lora.weight:g}>" for lora in request.loras)
    lines = [f"{request.prompt} {tags}".strip() if tags else request.prompt]
    if request.negative_prompt:
        lines.append(f"Negative prompt: {request.negative_prompt}")
    fields = [f"Steps: {request.steps}", f"Sampler: {scheduler_label(request.scheduler)}",
              f"CFG scale: {request.guidance_scale:g}", f"Seed: {seed}", f"Size: {request.width}x{request.height}"]
    base = next((m for m in models if m.get("role") == "base"), None)
    if base is not None:
        if base.get("model_hash"):
            fields.append(f"Model hash: {base['model_hash']}")
        fields.append(f"Model: {_model_name(base)}")
    if request.is_refine:
        fields.append(f"Denoising strength: {request.strength:g}")
    if request.hires_scale > 1.0:
        from studio.engine.hires import UPSCALER_LABELS

        fields += [f"Denoising strength: {request.hires_strength:g}", f"Hires upscale: {request.hires_scale:g}"]
        if request.hires_steps:  # A1111 leaves it out when the hires pass takes the first pass's steps
            fields.append(f"Hires steps: {request.hires_steps}")
        fields.append(f"Hires upscaler: {UPSCALER_LABELS[request.hires_upscaler]}")
    if request.is_inpaint:
        fields.append(f"Mask blur: {request.mask_blur}")
        if request.inpaint_only_masked:
            fields += ["Inpaint area: Only masked", f"Masked area padding: {request.inpaint_padding}"]
    by_kind = {m.get("role"): m for m in models}
    for index, control in enumerate(request.controls):
        model = by_kind.get(control.kind)
        model_text = "None" if model is None else \
            f"{_model_name(model)} [{model['sha256'][:8]}]" if model.get("sha256") else _model_name(model)
        unit = (f"Module: {control.kind}, Model: {_plain(model_text)}, Weight: {control.weight:g}, "
                f"Resize Mode: {_RESIZE_LABELS[control.resize_mode]}, Guidance Start: {control.start:g}, "
                f"Guidance End: {control.end:g}, Control Mode: {_MODE_LABELS[control.mode]}")
        fields.append(f'ControlNet {index}: "{unit}"')
    fields.append("Version: ControlNet Studio")
    lines.append(", ".join(fields))
    return "\n".join(lines)


def png_info(request: GenerationRequest, *, seed: int, models: list[dict[str, Any]],
             include_images: bool = True) -> PngImagePlugin.PngInfo:
    """PNG text chunks for one image: `parameters` and the compressed `studio_request` JSON."""
    info = PngImagePlugin.PngInfo()
    info.add_text(PARAMETERS_KEY, a1111_parameters(request, seed=seed, models=models))
    remake = image_request(request, seed=seed)
    info.add_itxt(REQUEST_KEY, remake.to_json(include_images=include_images), zip=True)
    return info


def save_png(image: Image.Image, path: str | Path, *, request: GenerationRequest, seed: int,
             models: list[dict[str, Any]], include_images: bool = True) -> Path:
    """Write `image` as PNG with its generation metadata; returns the path."""
    path = Path(path)
    try:
        image.save(path, format="PNG", pnginfo=png_info(request, seed=seed, models=models,
                                                          include_images=include_images))
    except OSError as exc:
        raise RequestError(f"Cannot write {path} ({exc}).") from exc
    return path


def read_png_metadata(path: str | Path) -> tuple[str | None, GenerationRequest | None]:
    """The `parameters` text and the stored request of a PNG (None for what it lacks)."""
    try:
        with Image.open(path) as image:
            text = dict(getattr(image, "text", {}) or {})
    except (OSError, UnidentifiedImageError) as exc:
        raise RequestError(f"Cannot read {path} as an image ({exc}).") from exc
    stored = text.get(REQUEST_KEY)
    return text.get(PARAMETERS_KEY), GenerationRequest.from_json(stored) if stored else None
