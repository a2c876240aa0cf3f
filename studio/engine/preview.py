"""Cheap previews during generation: latents -> RGB by a fixed linear map instead of a VAE decode.

The 4x3 factors approximate what the SD 1.x/2.x and SDXL VAEs decode each latent channel to (published
community approximations); the preview is at latent resolution (1/8 of the output), enough to watch a
composition form at no measurable cost.
"""

from __future__ import annotations

from typing import Any

from PIL import Image

SD_FACTORS = ((0.3512, 0.2297, 0.3227), (0.3250, 0.4974, 0.2350), (-0.2829, 0.1762, 0.2721),
              (-0.2120, -0.2616, -0.7177))
SDXL_FACTORS = ((0.3651, 0.4232, 0.4341), (-0.2533, -0.0042, 0.1068), (0.1076, 0.1111, -0.0362),
                (-0.3165, -0.2492, -0.2188))
SDXL_BIAS = (0.1084, -0.0175, -0.0011)


def latents_to_preview(latents: Any, *, family: str) -> Image.Image:
    """The first latent of a batch as a small RGB image."""
    import torch

    sdxl = family == "sdxl"
    factors = torch.tensor(SDXL_FACTORS if sdxl else SD_FACTORS, dtype=torch.float32)
    latent = latents[0].detach().to("cpu", torch.float32)
    rgb = torch.einsum("chw,cr->hwr", latent, factors)
    if sdxl:
        rgb = rgb + torch.tensor(SDXL_BIAS)
    pixels = ((rgb + 1.0) * 127.5).clamp(0, 255).to(torch.uint8).numpy()
    return Image.fromarray(pixels, mode="RGB")


def wants_preview(step: int, total: int, every: int) -> bool:
    """Whether finished step `step` (1-based) of `total` gets a preview: the first step always, so a preview
    shows from the start, then every `every` steps, more often on short runs (at least 4 per run); never the last
    step, whose image follows at once. `every` 0 turns previews off."""
    if every <= 0 or step >= total:
        return False
    every = max(1, min(every, total // 4))
    return step == 1 or step % every == 0
