"""A tiny VAE decoder (diffusers `AutoencoderTiny`, e.g. TAESD / TAESDXL) for previews and live frames.

The full SD VAE decoder costs about 2.5 TFLOP for a 512x512 image; TAESD decodes the same latents in a few
GFLOP with slightly softer detail. When the user has one (a local diffusers folder: `config.json` +
`diffusion_pytorch_model.safetensors`; TAESD for SD 1.x/2.x, TAESDXL for SDXL), step previews are decoded with it
at full resolution instead of the latent-colour approximation, and live frames may use it for their final decode.
It decodes the pipeline's scaled latents directly (its scaling factor is 1.0), which is how diffusers pipelines use
it in place of the full VAE.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PIL import Image

from studio.engine.errors import ModelError

_LOAD_ERRORS = (OSError, ValueError, RuntimeError, KeyError, TypeError)


def load_tiny_vae(folder: str | Path, *, device: str, dtype: Any) -> Any:
    """Load an `AutoencoderTiny` from a local folder onto `device`; `ModelError` when it is missing or unreadable."""
    from diffusers import AutoencoderTiny

    from studio.engine.models import quiet_loading

    path = Path(folder)
    if not (path / "config.json").is_file():
        raise ModelError(f"No tiny VAE at {path}: expected a diffusers AutoencoderTiny folder with config.json.")
    quiet_loading()
    try:
        model = AutoencoderTiny.from_pretrained(path, dtype=dtype, local_files_only=True, use_safetensors=True)
    except _LOAD_ERRORS as exc:
        raise ModelError(f"Cannot load the tiny VAE {path}: {exc}") from exc
    return model.to(device).eval()


class TinyVaePreview:
    """Decodes the first latent of a batch with a tiny VAE into a full-size RGB preview."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def __call__(self, latents: Any, *, family: str) -> Image.Image:
        """The preview image (`family` is accepted for the engine's preview interface; the model decides)."""
        import torch

        param = next(self.model.parameters())
        with torch.no_grad():
            decoded = self.model.decode(latents[:1].to(param.device, param.dtype), return_dict=False)[0]
        pixels = ((decoded[0].float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
        return Image.fromarray(pixels.permute(1, 2, 0).cpu().numpy(), mode="RGB")


def make_tiny_vae(folder: str | Path, *, seed: int = 0) -> Path:
    """Write a small random `AutoencoderTiny` (8x up/down-scaling, 4 latent channels) for tests and demos."""
    import torch
    from diffusers import AutoencoderTiny

    torch.manual_seed(seed)
    model = AutoencoderTiny(encoder_block_out_channels=(8, 8, 8, 8), decoder_block_out_channels=(8, 8, 8, 8),
                            num_encoder_blocks=(1, 1, 1, 1), num_decoder_blocks=(1, 1, 1, 1))
    model.save_pretrained(folder, safe_serialization=True)
    return Path(folder)
