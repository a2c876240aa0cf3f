"""What an optimizer changes about one pipeline call: the engine's hook for speed-ups that act per run.

An `optimize` object given to `Engine` may offer `plan_run(pipe, request, *, draft) -> RunPlan`; the engine then
- passes `guess_mode=True` to the pipeline when `guess_mode` is set (diffusers then runs the ControlNets on the
  conditional half of the batch), with hooks that give every control the "control" mode's scales
  (`control_modes.install_guess_mode_hooks`) instead of the per-control mode hooks;
- calls `step_end(pipeline, step, tensors)` after its own progress/cancel handling in every step, asking the
  pipeline for the extra `tensor_inputs` (e.g. the CFG cut-off's doubled tensors);
- uses `preview(latents, family=...)` instead of the latent-colour approximation for step previews;
- enters `context` around the pipeline call (attention-kernel choice, offload set-up, swapped decoder).
`draft` marks live-mode renders, which may trade final-decode quality for speed.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

StepEnd = Callable[[Any, int, dict[str, Any]], dict[str, Any]]
PreviewFn = Callable[..., Image.Image]


@dataclass
class RunPlan:
    """Per-run changes an optimizer asks of the engine (all optional; the default changes nothing)."""

    guess_mode: bool = False
    step_end: StepEnd | None = None
    tensor_inputs: tuple[str, ...] = ()
    preview: PreviewFn | None = None
    context: AbstractContextManager[Any] = field(default_factory=nullcontext)
    notes: list[str] = field(default_factory=list)
