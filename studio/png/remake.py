"""A generation request from PNG settings (`studio generate --from-png`, the window's "Open Settings from Image").

The studio's own PNG gives back its stored request exactly (control images included when it was saved with
them), so the same models remake the same pixels. Another tool's PNG gives a request with its prompt,
negative prompt, seed, steps, guidance, size and the nearest scheduler; what cannot be carried over (an unknown
sampler, ControlNet units without their maps, sizes that are not multiples of 8) is said in the notes.
"""

from __future__ import annotations

from studio.engine.request import MAX_SIZE, MIN_SIZE, GenerationRequest
from studio.png.read import PngSettings


def _side(value: int | None, default: int, name: str, notes: list[str]) -> int:
    if value is None:
        return default
    side = min(MAX_SIZE, max(MIN_SIZE, int(value)))
    side -= side % 8
    if side != value:
        notes.append(f"The {name} {value} became {side} (a multiple of 8 from {MIN_SIZE} to {MAX_SIZE}).")
    return side


def _hires_values(hires: dict, notes: list[str]) -> dict:
    """Request fields for another tool's hires fix: its scale, strength and steps; latent upscalers become
    "latent", Lanczos "lanczos", and any other (e.g. an ESRGAN model) Lanczos with a note."""
    from studio.engine.hires import MAX_HIRES_SCALE

    scale = min(MAX_HIRES_SCALE, float(hires["scale"]))
    if scale <= 1.0:
        return {}
    name = str(hires.get("upscaler") or "Latent")
    upscaler = "latent" if name.lower().startswith("latent") else "lanczos"
    if upscaler == "lanczos" and name.lower() != "lanczos":
        notes.append(f"The hires upscaler {name!r} is not available here; Lanczos is used.")
    values: dict = {"hires_scale": scale, "hires_upscaler": upscaler}
    if hires.get("strength") is not None:
        values["hires_strength"] = min(1.0, max(0.01, float(hires["strength"])))
    if hires.get("steps"):
        values["hires_steps"] = int(hires["steps"])
    return values


def request_from_settings(settings: PngSettings) -> tuple[GenerationRequest, list[str]]:
    """The request to remake the image, and notes on what differs from the original run."""
    notes = list(settings.notes)
    if settings.request is not None:
        return settings.request, notes
    values = {"prompt": settings.prompt, "negative_prompt": settings.negative}
    if settings.seed is not None:
        values["seed"] = settings.seed
    if settings.steps is not None:
        values["steps"] = settings.steps
    if settings.guidance is not None:
        values["guidance_scale"] = settings.guidance
    if settings.scheduler is not None:
        values["scheduler"] = settings.scheduler
    elif settings.sampler:
        notes.append(f"The sampler {settings.sampler!r} of {settings.source} has no match here; UniPC is used.")
    values["width"] = _side(settings.width, 512, "width", notes)
    values["height"] = _side(settings.height, 512, "height", notes)
    if settings.controlnets:
        notes.append(f"The image used {len(settings.controlnets)} ControlNet unit(s); their control maps are not in "
                     "the PNG, so give them with --control.")
    if settings.hires is not None:
        values.update(_hires_values(settings.hires, notes))
    if settings.model:
        notes.append(f"It was made with the model {settings.model!r}; the model given here is used.")
    return GenerationRequest(**values), notes
