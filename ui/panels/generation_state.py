"""The generation panel's state as plain data, and how it becomes an engine `GenerationRequest`."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field

import numpy as np

from studio.engine.request import CONTROL_KINDS, ControlInput, GenerationRequest

CONTROL_LABELS = {"edge": "Edges", "pose": "Pose", "depth": "Depth"}


@dataclass
class ControlSettings:
    """How one canvas layer is used as a ControlNet input."""

    kind: str
    enabled: bool = True
    weight: float = 1.0
    start: float = 0.0
    end: float = 1.0
    mode: str = "balanced"


def _default_controls() -> dict[str, ControlSettings]:
    return {kind: ControlSettings(kind=kind) for kind in CONTROL_KINDS}


@dataclass
class GenerationSettings:
    """Everything the generation panel shows. `seed` None means a new random seed per run."""

    model: str | None = None
    prompt: str = ""
    negative_prompt: str = ""
    width: int = 512
    height: int = 512
    steps: int = 20
    guidance_scale: float = 7.0
    seed: int | None = None
    scheduler: str = "unipc"
    batch_size: int = 1
    controls: dict[str, ControlSettings] = field(default_factory=_default_controls)

    def copy(self) -> GenerationSettings:
        return copy.deepcopy(self)

    def to_request(self, control_images: dict[str, np.ndarray]) -> GenerationRequest:
        """A request with one ControlInput per enabled layer that has an image in `control_images`."""
        controls = [
            ControlInput(
                kind=kind,
                image=control_images[kind],
                weight=setting.weight,
                start=setting.start,
                end=setting.end,
                mode=setting.mode,
            )
            for kind, setting in self.controls.items()
            if setting.enabled and kind in control_images
        ]
        return GenerationRequest(
            prompt=self.prompt,
            negative_prompt=self.negative_prompt,
            width=self.width,
            height=self.height,
            steps=self.steps,
            guidance_scale=self.guidance_scale,
            seed=self.seed,
            scheduler=self.scheduler,
            batch_size=self.batch_size,
            controls=controls,
        )

    @classmethod
    def from_request(cls, request: GenerationRequest, *, model: str | None) -> GenerationSettings:
        """Panel state that reproduces `request` (layers without a control in it are switched off)."""
        controls = _default_controls()
        for setting in controls.values():
            setting.enabled = False
        for control in request.controls:
            controls[control.kind] = ControlSettings(
                kind=control.kind,
                enabled=True,
                weight=float(control.weight),
                start=float(control.start),
                end=float(control.end),
                mode=control.mode,
            )
        return cls(
            model=model,
            prompt=request.prompt,
            negative_prompt=request.negative_prompt,
            width=request.width,
            height=request.height,
            steps=request.steps,
            guidance_scale=float(request.guidance_scale),
            seed=request.seed,
            scheduler=request.scheduler,
            batch_size=request.batch_size,
            controls=controls,
        )
