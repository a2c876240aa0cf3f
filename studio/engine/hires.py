"""Hires fix: an optional second pass that upscales the first result and refines it at a chosen strength.

`hires_scale` > 1 on a text-to-image request turns it on. The first pass runs at width x height; its result is
upscaled to (scale x size, rounded to multiples of 8) either as an image (Lanczos; `hires_upscaler="lanczos"`) or
as latents (bilinear; "latent", which skips one decode and encode), then refined with the same prompt, LoRAs,
ControlNets (their maps fitted to the new size) and seed, at `hires_strength`, for `hires_steps` steps (0: the
first pass's). The VAE decodes in tiles when the result has more than TILED_DECODE_PIXELS pixels, so large
results fit in memory. Each image of a batch gets its own second pass with its own seed.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
from PIL import Image

UPSCALERS = ("lanczos", "latent")
UPSCALER_LABELS = {"lanczos": "Lanczos", "latent": "Latent"}
MAX_HIRES_SCALE = 4.0
TILED_DECODE_PIXELS = 1536 * 1536


def hires_size(request: Any) -> tuple[int, int]:
    """(width, height) of the second pass: the first pass's times `hires_scale`, in multiples of 8."""
    from studio.engine.request import MAX_SIZE

    def side(value: int) -> int:
        return min(MAX_SIZE, max(8, round(value * request.hires_scale / 8) * 8))

    return side(request.width), side(request.height)


def second_pass_request(request: Any, *, seed: int, image: Image.Image | None) -> Any:
    """The refine request of the second pass for one image (`image` None in latent mode: a placeholder picture
    of the right size stands in; the latents replace it in the pipeline call)."""
    width, height = hires_size(request)
    if image is None:
        picture = np.zeros((height, width, 3), dtype=np.uint8)
    else:
        picture = np.asarray(image.convert("RGB").resize((width, height), Image.Resampling.LANCZOS))
    return dataclasses.replace(
        request, width=width, height=height, init_image=picture, strength=float(request.hires_strength),
        steps=request.hires_steps or request.steps, seed=seed, batch_size=1, hires_scale=1.0,
    )


def upscale_latents(latents: Any, width: int, height: int) -> Any:
    """[4, h, w] latents -> [1, 4, height / 8, width / 8] by bilinear interpolation."""
    import torch.nn.functional as F

    return F.interpolate(latents[None], size=(height // 8, width // 8), mode="bilinear", align_corners=False)


class tiled_decode:
    """Context manager: tiled VAE decode for the pipeline while the result is large."""

    def __init__(self, pipe: Any, width: int, height: int, *, above_pixels: int | None = None) -> None:
        self.vae = getattr(pipe, "vae", None)
        limit = TILED_DECODE_PIXELS if above_pixels is None else above_pixels
        # already tiling (low-VRAM mode): leave it as it is, on entry and on exit
        self.on = (self.vae is not None and width * height > limit and hasattr(self.vae, "enable_tiling")
                   and not getattr(self.vae, "use_tiling", False))

    def __enter__(self) -> "tiled_decode":
        if self.on:
            self.vae.enable_tiling()
        return self

    def __exit__(self, *_exc: Any) -> None:
        if self.on:
            self.vae.disable_tiling()
