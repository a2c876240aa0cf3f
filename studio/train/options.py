"""The settings of a training run, checked before anything is loaded, and where its working files go.

Working files (`work`, default `<out>.train/` next to the output): `checkpoints/step-N/` (accelerate state: the
trained weights, optimizer, scheduler and random states, plus `progress.json` with the step and the losses so
far; the newest two are kept) and `validation/step-N-R.png` (images of the held-out rows).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from studio.train.errors import TrainError

PRECISIONS = ("auto", "fp32", "fp16", "bf16")
MAX_STEPS = 1_000_000


@dataclass(frozen=True)
class TrainOptions:
    steps: int = 500
    lr: float = 1e-4
    resolution: int = 512
    batch: int = 1
    seed: int = 0
    rank: int = 8  # LoRA only
    text_encoder: bool = False  # LoRA only: also adapt the (first) text encoder
    prompt_dropout: float = 0.5  # ControlNet only: share of prompts replaced by "" (the paper's 50 %)
    control_dropout: float = 0.0  # ControlNet only: share of control maps replaced by black
    precision: str = "auto"
    gradient_checkpointing: bool = True
    validate_every: int = 100  # 0: only at the end
    validation_steps: int = 20  # denoising steps of a validation image
    checkpoint_every: int = 250  # 0: only at the end (and when stopped)
    held_out: int | None = None  # rows kept for validation (None: one in ten)
    device: str = "auto"  # "cpu" forces the CPU even where CUDA is present
    extra: dict[str, Any] = field(default_factory=dict)

    def validate(self) -> None:
        def whole(name: str, low: int, high: int) -> None:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise TrainError(f"--{name.replace('_', '-')} must be a whole number from {low} to {high}, "
                                 f"got {value!r}.")

        whole("steps", 1, MAX_STEPS)
        whole("batch", 1, 1024)
        whole("rank", 1, 1024)
        whole("validate_every", 0, MAX_STEPS)
        whole("checkpoint_every", 0, MAX_STEPS)
        whole("validation_steps", 1, 1000)
        res = self.resolution
        if isinstance(res, bool) or not isinstance(res, int) or not 8 <= res <= 4096 or res % 8:
            raise TrainError(f"--resolution must be a multiple of 8 from 8 to 4096, got {res!r}.")
        if not isinstance(self.lr, (int, float)) or not math.isfinite(self.lr) or not 0 < self.lr <= 1:
            raise TrainError(f"--lr must be a learning rate above 0 and at most 1, got {self.lr!r}.")
        for name in ("prompt_dropout", "control_dropout"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
                raise TrainError(f"--{name.replace('_', '-')} must be a share from 0 to 1, got {value!r}.")
        if self.precision not in PRECISIONS:
            raise TrainError(f"--precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}.")
        if self.device not in ("auto", "cpu", "cuda"):
            raise TrainError(f"--device must be auto, cpu or cuda, got {self.device!r}.")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("extra")
        return {**data, **self.extra}


def mixed_precision(precision: str, *, cuda: bool) -> str:
    """accelerate's mixed_precision for `precision` ("no" on the CPU: fp16/bf16 there is slow or unsupported)."""
    import torch

    if not cuda or precision == "fp32":
        return "no"
    if precision == "auto":
        return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return precision


def default_work_dir(out: Path) -> Path:
    return out.with_name(out.name + ".train")


def check_output(out: Path, *, folder: bool) -> None:
    """Refuse an output that exists (never overwrite a model) or whose parent folder is missing."""
    if not out.parent.is_dir():
        raise TrainError(f"The folder {out.parent} does not exist.")
    if folder:
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise TrainError(f"{out} already exists and is not an empty folder; choose a new one.")
    else:
        if out.suffix.lower() != ".safetensors":
            raise TrainError(f"The LoRA file must end in .safetensors, got {out.name}.")
        if out.exists():
            raise TrainError(f"{out} already exists; choose a new file name.")
