"""CFG cut-off: stop classifier-free guidance after a fraction of the steps (about half the work per later step).

Late steps refine detail that guidance barely changes, so dropping the unconditional half of the batch there
saves time at a small cost in prompt adherence; it changes the picture, so it is off unless asked for. At the
end of the last guided step the callback sets the pipeline's guidance scale to 0 (diffusers then stops doubling
the batch) and keeps only the conditional half of every doubled tensor the loop carries: the prompt embeddings,
SDXL's pooled embeddings and time ids, and the control images (doubled unless the ControlNets run in guess mode).
diffusers ships similar callbacks, but they keep one row (`[-1:]`, wrong for a batch of images) and have none
for the SD 1.x ControlNet pipelines; this one halves whatever it is given.
"""

from __future__ import annotations

import math
from typing import Any

# Tensors the denoising loops double for classifier-free guidance (unconditional half first).
DOUBLED_INPUTS = ("prompt_embeds", "add_text_embeds", "add_time_ids", "image", "control_image")


def guided_steps(fraction: float, steps: int) -> int:
    """How many of `steps` keep guidance when it stops after `fraction` of them (at least 1)."""
    return max(1, min(steps, math.ceil(fraction * steps)))


def cutoff_inputs(pipe: Any) -> tuple[str, ...]:
    """The doubled tensors this pipeline can hand to a step-end callback."""
    allowed = set(getattr(pipe, "_callback_tensor_inputs", ()))
    return tuple(name for name in DOUBLED_INPUTS if name in allowed)


def _conditional_half(value: Any, batch: int) -> Any:
    if isinstance(value, (list, tuple)):
        return type(value)(_conditional_half(v, batch) for v in value)
    if hasattr(value, "shape") and value.shape[0] == 2 * batch:
        return value.chunk(2)[1]
    return value


class CfgCutoff:
    """Step-end callback part that ends guidance after `fraction` of the steps (1.0: never)."""

    def __init__(self, fraction: float) -> None:
        self.fraction = float(fraction)

    def __call__(self, pipeline: Any, step: int, tensors: dict[str, Any]) -> dict[str, Any]:
        total = pipeline.num_timesteps
        if step + 1 != guided_steps(self.fraction, total) or step + 1 >= total:
            return tensors
        if not pipeline.do_classifier_free_guidance:
            return tensors
        batch = tensors["latents"].shape[0]
        for name in DOUBLED_INPUTS:
            if name in tensors:
                tensors[name] = _conditional_half(tensors[name], batch)
        pipeline._guidance_scale = 0.0
        return tensors
