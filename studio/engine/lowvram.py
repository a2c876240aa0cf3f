"""Low-VRAM mode: choose where the model weights live from the GPU's free memory, and apply that choice.

Plans, from fastest to smallest:
- "full": every model on the GPU (the normal case).
- "model_offload": weights wait in CPU memory and each model (text encoder, UNet, ControlNet, VAE) moves to the
  GPU while it runs (diffusers' `enable_model_cpu_offload`); a few percent slower per image, and the GPU holds
  only the largest model plus working memory. VAE tiling and slicing bound the decoder's memory.
- "sequential_offload": weights stream to the GPU layer by layer (`enable_sequential_cpu_offload`); several times
  slower, but runs SDXL on 6-8 GB cards. VAE tiling and slicing on.

`choose_memory_plan` decides from figures it is given (free memory from `torch.cuda.mem_get_info`, the loaded
base model's weight sizes), so the rule is testable without a GPU. Working-memory allowances (activations at the
family's native size with SDPA attention, and room for one ControlNet) are estimates from the published model
sizes: SD 1.5 UNet 0.86 B parameters, ControlNet 0.36 B; SDXL UNet 2.6 B, ControlNet up to 1.25 B.
VAE tiling decodes in overlapping tiles and blends the seams, so its pixels differ slightly from a whole decode;
it is used only when memory demands it. CUDA graphs, compiled blocks and fused projections are left out under
offloading (their weights move between devices, and fused projections add memory).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio.engine.errors import SettingsError

MEMORY_MODES = ("auto", "full", "model_offload", "sequential_offload")
GIB = 1024**3
# Working memory (activations, attention, decoder) at the family's native size, batch 1, SDPA attention.
ACTIVATION_BYTES = {"sd1": int(1.25 * GIB), "sd2": int(1.75 * GIB), "sdxl": int(3.0 * GIB)}
# Room for one ControlNet, as a fraction of the UNet's weights (SD 1.5: 0.36 B / 0.86 B; SDXL: up to 0.48).
CONTROLNET_FRACTION = 0.5
# Extra room that CUDA graph pools and background-compile warm-ups need before they are switched on.
SPEEDUP_HEADROOM_BYTES = 3 * GIB


@dataclass(frozen=True)
class MemoryPlan:
    """Where weights live and how the VAE decodes; `reason` says why, in words for the user."""

    mode: str
    vae_tiling: bool
    vae_slicing: bool
    speedups_fit: bool
    reason: str

    @property
    def offloads(self) -> bool:
        """True when weights live in CPU memory between uses."""
        return self.mode != "full"


def weights_bytes(pipe: Any) -> tuple[int, int]:
    """(all model weights, the UNet's weights) of a loaded pipeline, in bytes."""
    import torch

    total = 0
    for component in pipe.components.values():
        if isinstance(component, torch.nn.Module):
            total += sum(p.numel() * p.element_size() for p in component.parameters())
    unet = sum(p.numel() * p.element_size() for p in pipe.unet.parameters())
    return total, unet


def choose_memory_plan(*, requested: str, free_bytes: int, weights: int, unet_bytes: int,
                       family: str) -> MemoryPlan:
    """Pick a plan: `requested` wins unless it is "auto"; otherwise the fastest plan that fits in `free_bytes`."""
    if requested not in MEMORY_MODES:
        raise SettingsError(f"Unknown memory mode {requested!r}; choose one of: {', '.join(MEMORY_MODES)}.")
    activations = ACTIVATION_BYTES.get(family, ACTIVATION_BYTES["sd1"])
    controlnet = int(CONTROLNET_FRACTION * unet_bytes)
    full_need = weights + controlnet + activations
    offload_need = unet_bytes + controlnet + activations
    free_gib, need_gib = free_bytes / GIB, full_need / GIB
    if requested != "auto":
        mode, reason = requested, f"{requested.replace('_', ' ')} chosen in the settings"
    elif free_bytes >= full_need:
        mode, reason = "full", f"{free_gib:.1f} GiB free, about {need_gib:.1f} GiB needed"
    elif free_bytes >= offload_need:
        mode, reason = "model_offload", (f"{free_gib:.1f} GiB free is less than the {need_gib:.1f} GiB all models "
                                         f"need at once; moving each model to the GPU while it runs")
    else:
        mode, reason = "sequential_offload", (f"{free_gib:.1f} GiB free is less than the {offload_need / GIB:.1f} "
                                              f"GiB that the UNet, a ControlNet and working memory need; "
                                              f"streaming weights layer by layer")
    low = mode != "full"
    return MemoryPlan(mode=mode, vae_tiling=low, vae_slicing=low,
                      speedups_fit=not low and free_bytes >= full_need + SPEEDUP_HEADROOM_BYTES, reason=reason)


def free_memory_bytes() -> tuple[int, int]:
    """(free, total) bytes of the current CUDA device."""
    import torch

    free, total = torch.cuda.mem_get_info()
    return int(free), int(total)


def apply_memory_plan(pipe: Any, plan: MemoryPlan, *, device: str) -> None:
    """Set up `pipe` for `plan`: offload hooks (re-installed on this pipeline, which shares modules with others
    built from the same base) and VAE tiling/slicing."""
    vae = pipe.vae
    if plan.vae_tiling and hasattr(vae, "enable_tiling"):
        vae.enable_tiling()
    if plan.vae_slicing and hasattr(vae, "enable_slicing"):
        vae.enable_slicing()
    if plan.mode == "model_offload":
        pipe.enable_model_cpu_offload(device=device)
    elif plan.mode == "sequential_offload":
        pipe.enable_sequential_cpu_offload(device=device)
