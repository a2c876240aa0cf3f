"""Choosing where and in which precision to run: CUDA in float16/bfloat16 when present, else CPU in float32."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from studio.engine.errors import SettingsError

_DTYPE_NAMES = {"fp16": "float16", "bf16": "bfloat16", "fp32": "float32"}


@dataclass(frozen=True)
class DeviceChoice:
    """The torch device and dtype the engine runs on, and a note for the user when it fell back."""

    device: str
    dtype_name: str
    note: str = ""

    @property
    def dtype(self) -> Any:
        """The torch dtype."""
        import torch

        return getattr(torch, self.dtype_name)

    def describe(self) -> str:
        """e.g. "cuda float16" or "cpu float32 (CUDA is not available; running on the CPU)"."""
        text = f"{self.device} {self.dtype_name}"
        return f"{text} ({self.note})" if self.note else text


def choose_device(device: str = "auto", dtype: str = "auto") -> DeviceChoice:
    """Pick device and dtype from the settings' preferences ("auto" | "cuda" | "cpu", "auto" | "fp16" | ...)."""
    import torch

    if device not in ("auto", "cuda", "cpu"):
        raise SettingsError(f"Unknown device {device!r}; choose auto, cuda or cpu.")
    if dtype not in ("auto", *_DTYPE_NAMES):
        raise SettingsError(f"Unknown dtype {dtype!r}; choose auto, fp16, bf16 or fp32.")
    notes = []
    use_cuda = device in ("auto", "cuda") and torch.cuda.is_available()
    if device == "cuda" and not use_cuda:
        notes.append("CUDA is not available; running on the CPU, which is much slower")
    if not use_cuda:
        if dtype in ("fp16", "bf16"):
            notes.append(f"{_DTYPE_NAMES[dtype]} is not used on the CPU; running in float32")
        return DeviceChoice("cpu", "float32", "; ".join(notes))
    if dtype == "bf16" and not torch.cuda.is_bf16_supported():
        return DeviceChoice("cuda", "float16", "this GPU lacks bfloat16; running in float16")
    return DeviceChoice("cuda", _DTYPE_NAMES.get(dtype, "float16"))
