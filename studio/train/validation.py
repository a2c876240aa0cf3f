"""Validation images: the held-out rows' prompts (and control maps) generated with the model being trained,
every `validate_every` steps and at the end, the same seed each time, so the images show what training changes."""

from __future__ import annotations

import contextlib
from typing import Any

from studio.train.options import TrainOptions

MAX_VALIDATION_ROWS = 4
GUIDANCE = 7.0


def generate_images(pipe: Any, rows: list, *, options: TrainOptions, device: Any, dtype: Any, seed: int,
                    control: bool = False) -> list[Any]:
    """One image per held-out row (at most MAX_VALIDATION_ROWS) at the training resolution."""
    import torch

    size = options.resolution
    autocast = torch.autocast(device_type=torch.device(device).type, dtype=dtype) \
        if dtype != torch.float32 else contextlib.nullcontext()
    images = []
    with torch.no_grad(), autocast:
        for index, row in enumerate(rows[:MAX_VALIDATION_ROWS]):
            kwargs: dict[str, Any] = dict(prompt=row.text, num_inference_steps=options.validation_steps,
                                          height=size, width=size, guidance_scale=GUIDANCE,
                                          generator=torch.Generator().manual_seed(seed + index))
            if control:
                kwargs["image"] = row.conditioning.resize((size, size))
            images.append(pipe(**kwargs).images[0])
    return images
