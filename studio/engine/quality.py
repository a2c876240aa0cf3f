"""Comparing images made two ways (e.g. with and without speed-ups): peak signal-to-noise ratio."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from studio.engine.errors import EngineError


def psnr(first: Any, second: Any) -> float:
    """PSNR in dB between two 8-bit RGB images (PIL images or HxWx3 uint8 arrays); `inf` when identical.

    30 dB and above means differences too small to see at a glance; identical pipelines give `inf`.
    """
    a = np.asarray(first, dtype=np.float64)
    b = np.asarray(second, dtype=np.float64)
    if a.shape != b.shape:
        raise EngineError(f"Cannot compare images of different sizes: {a.shape} and {b.shape}.")
    mse = float(np.mean((a - b) ** 2))
    return math.inf if mse == 0.0 else 10.0 * math.log10(255.0**2 / mse)
