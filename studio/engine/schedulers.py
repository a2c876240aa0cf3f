"""Scheduler names in requests -> diffusers schedulers built from the base model's scheduler config."""

from __future__ import annotations

from typing import Any

from studio.engine.errors import RequestError

# name -> (diffusers class name, config overrides, label in A1111-style metadata)
SCHEDULER_TABLE: dict[str, tuple[str, dict[str, Any], str]] = {
    "unipc": ("UniPCMultistepScheduler", {}, "UniPC"),
    "dpmpp_2m_karras": ("DPMSolverMultistepScheduler",
                        {"algorithm_type": "dpmsolver++", "solver_order": 2, "use_karras_sigmas": True},
                        "DPM++ 2M Karras"),
    "euler_a": ("EulerAncestralDiscreteScheduler", {}, "Euler a"),
    "ddim": ("DDIMScheduler", {}, "DDIM"),
    "lcm": ("LCMScheduler", {}, "LCM"),
}


def scheduler_label(name: str) -> str:
    """The sampler name other Stable Diffusion tools show for `name` (e.g. "DPM++ 2M Karras")."""
    return SCHEDULER_TABLE[name][2] if name in SCHEDULER_TABLE else name


def make_scheduler(name: str, base_config: Any) -> Any:
    """A new scheduler of kind `name` sharing the base model's training noise schedule."""
    import diffusers

    if name not in SCHEDULER_TABLE:
        raise RequestError(f"Unknown scheduler {name!r}; choose one of: {', '.join(SCHEDULER_TABLE)}.")
    class_name, overrides, _ = SCHEDULER_TABLE[name]
    return getattr(diffusers, class_name).from_config(base_config, **overrides)
