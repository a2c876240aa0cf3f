"""Control modes: how strongly a ControlNet leads against the prompt, applied as forward hooks.

- "balanced": plain ControlNet; every residual is added with the control's weight.
- "prompt" ("my prompt is more important"): soft injection. The 13 residuals of an SD ControlNet (12 encoder
  levels + middle) are scaled by 0.825 ** (12 - i), so the deep, semantic levels keep their weight while the
  shallow, detailed ones are damped and the prompt decides more of the picture.
- "control" ("the ControlNet is more important"): the same soft injection, and with classifier-free guidance
  the residuals are added to the conditional half of the batch only. Guidance then pushes *towards* the control
  as well as the prompt, so the control dominates (the idea of diffusers' `guess_mode`, per ControlNet, so
  several controls can use different modes in one run).
The hooks rescale the ControlNet's outputs; the pipelines and models are unchanged, and the hooks are removed
after every run.

Guess mode proper (diffusers' `guess_mode=True`, a speed-up chosen by `accel.py`) runs the ControlNets on the
conditional half of the batch only, which is what "control" computes anyway, and scales the residuals by
`logspace(-1, 0, n)`; `install_guess_mode_hooks` turns those scales into the soft-injection ones above, so a
"control"-mode run gives the same picture either way (exactly, up to rounding, at half the ControlNet work).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

SOFT_INJECTION_BASE = 0.825


def soft_injection_scales(count: int) -> list[float]:
    """Scales for `count` residuals, shallowest first, deepest (middle block) last = 1.0."""
    return [SOFT_INJECTION_BASE ** float(count - 1 - i) for i in range(count)]


def _mode_hook(mode: str, uses_cfg: Callable[[], bool]) -> Callable[..., Any]:
    def hook(_module: Any, _args: Any, output: Any) -> Any:
        as_output = hasattr(output, "down_block_res_samples")
        down, mid = (output.down_block_res_samples, output.mid_block_res_sample) if as_output else output
        residuals = [*down, mid]
        scales = soft_injection_scales(len(residuals))
        cond_only = mode == "control" and uses_cfg()
        result = []
        for residual, scale in zip(residuals, scales):
            residual = residual * scale
            if cond_only:
                half = residual.shape[0] // 2
                residual = residual.clone()
                residual[:half] = 0
            result.append(residual)
        if as_output:
            return type(output)(down_block_res_samples=tuple(result[:-1]), mid_block_res_sample=result[-1])
        return tuple(result[:-1]), result[-1]

    return hook


def install_mode_hooks(controlnets: list[Any], modes: list[str], *, uses_cfg: Callable[[], bool]) -> list[Any]:
    """Add hooks for the non-"balanced" modes; returns handles to pass to `remove_hooks` after the run."""
    handles = []
    seen: dict[int, str] = {}  # one union ControlNet may run several controls: hook it once
    for controlnet, mode in zip(controlnets, modes):
        if id(controlnet) in seen:
            if seen[id(controlnet)] != mode:
                from studio.engine.errors import RequestError

                remove_hooks(handles)
                raise RequestError("One ControlNet Union model runs two of these controls, so they need the same "
                                   f"control mode (not {seen[id(controlnet)]!r} and {mode!r}).")
            continue
        seen[id(controlnet)] = mode
        if mode != "balanced":
            handles.append(controlnet.register_forward_hook(_mode_hook(mode, uses_cfg)))
    return handles


def remove_hooks(handles: list[Any]) -> None:
    """Remove hooks made by `install_mode_hooks`."""
    for handle in handles:
        handle.remove()


def _guess_mode_hook(_module: Any, _args: Any, output: Any) -> Any:
    import torch

    as_output = hasattr(output, "down_block_res_samples")
    down, mid = (output.down_block_res_samples, output.mid_block_res_sample) if as_output else output
    residuals = [*down, mid]
    theirs = torch.logspace(-1, 0, len(residuals), dtype=torch.float64).tolist()
    ours = soft_injection_scales(len(residuals))
    result = [residual * (mine / given) for residual, mine, given in zip(residuals, ours, theirs)]
    if as_output:
        return type(output)(down_block_res_samples=tuple(result[:-1]), mid_block_res_sample=result[-1])
    return tuple(result[:-1]), result[-1]


def install_guess_mode_hooks(controlnets: list[Any]) -> list[Any]:
    """For a run with diffusers' `guess_mode=True`: rescale every ControlNet's residuals from diffusers' guess-mode
    scales to the soft-injection scales; returns handles for `remove_hooks`."""
    unique = {id(c): c for c in controlnets}.values()  # a union ControlNet running several controls: once
    return [controlnet.register_forward_hook(_guess_mode_hook) for controlnet in unique]
