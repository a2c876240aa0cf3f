"""Gallery entries as plain data: one generated image with the request and model that made it."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np

from studio.engine.request import GenerationRequest

_ids = itertools.count(1)


@dataclass(eq=False)
class GalleryEntry:
    """One result. `request.seed` is the seed that made this image (never None); `model` is the name in the model
    settings, `models` the identities of the files used (for PNG metadata)."""

    image: np.ndarray
    request: GenerationRequest
    model: str | None
    models: list[dict] = field(default_factory=list)
    index_in_batch: int = 0
    rating: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    history_id: int | None = None  # the generation's event id in the document history (for feedback)
    entry_id: int = field(default_factory=lambda: next(_ids))

    def describe(self) -> str:
        """Readable parameters, one per line."""
        request = self.request
        lines = [
            f"Model: {self.model or '–'}",
            f"Prompt: {request.prompt or '–'}",
            f"Negative: {request.negative_prompt or '–'}",
            f"Size: {request.width} × {request.height}",
            f"Steps: {request.steps}   Guidance: {request.guidance_scale:g}",
            f"Scheduler: {request.scheduler}",
            f"Seed: {request.seed}" + (f" (image {self.index_in_batch + 1} of batch)" if self.index_in_batch else ""),
        ]
        for control in request.controls:
            lines.append(
                f"Control {control.kind}: weight {control.weight:g}, steps {control.start:g}–{control.end:g}, "
                f"{control.mode}"
            )
        if self.timings:
            total = sum(self.timings.values())
            lines.append(f"Time: {total:.1f} s")
        return "\n".join(lines)
