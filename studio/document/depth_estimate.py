"""Depth from a photo with a transformers depth-estimation model (DPT, Depth Anything, ...) from a local folder.

The model folder holds a transformers config, weights and image-processor config (as written by
`save_pretrained`). Nothing is downloaded. Relative models (DPT, Depth Anything) predict inverse depth, so
large = near; metric models (depth_estimation_type "metric", ZoeDepth) predict distance and are inverted.
The prediction is resized to the photo's size (bicubic) and scaled to [0, 1] (near = 1).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from studio.document.errors import DepthModelError


def _is_metric(config) -> bool:
    return getattr(config, "depth_estimation_type", None) == "metric" or getattr(config, "model_type", "") == "zoedepth"


class DepthEstimator:
    """A loaded depth model; call `estimate(rgb)` for a float32 HxW map in [0, 1], near = bright."""

    def __init__(self, model_path: str | Path, *, device: str | None = None) -> None:
        import torch
        from transformers import AutoImageProcessor, AutoModelForDepthEstimation

        path = Path(model_path)
        if not (path / "config.json").is_file():
            raise DepthModelError(f"'{path}' is not a depth model folder (no config.json).")
        try:
            self.processor = AutoImageProcessor.from_pretrained(path, local_files_only=True)
            self.model = AutoModelForDepthEstimation.from_pretrained(path, local_files_only=True)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise DepthModelError(f"Cannot load the depth model in '{path}': {exc}") from exc
        self.device = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
        self.model.to(self.device).eval()
        self.metric = _is_metric(self.model.config)

    def estimate(self, image: np.ndarray) -> np.ndarray:
        """HxW float32 depth in [0, 1] (near = 1) for an HxWx3 uint8 RGB image."""
        import torch

        image = np.asarray(image)
        if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
            raise DepthModelError(f"Depth estimation needs an HxWx3 uint8 RGB image, not {image.dtype} {image.shape}.")
        inputs = self.processor(images=image, return_tensors="pt").to(self.device)
        with torch.inference_mode():
            predicted = self.model(**inputs).predicted_depth
        if predicted.ndim == 3:
            predicted = predicted[:, None]
        predicted = torch.nn.functional.interpolate(
            predicted.float(), size=image.shape[:2], mode="bicubic", align_corners=False
        )[0, 0]
        depth = predicted.cpu().numpy().astype(np.float32)
        if not np.isfinite(depth).all():
            raise DepthModelError("The depth model returned NaN or infinite values.")
        if self.metric:
            depth = -depth
        low, high = float(depth.min()), float(depth.max())
        if high - low < 1e-12:
            return np.zeros_like(depth)
        return ((depth - low) / (high - low)).astype(np.float32)


def estimate_depth(image: np.ndarray, model_path: str | Path, *, device: str | None = None) -> np.ndarray:
    """Load the model at `model_path` and estimate depth for one RGB image (see DepthEstimator)."""
    return DepthEstimator(model_path, device=device).estimate(image)
