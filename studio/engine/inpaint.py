"""Inpainting: which pixels are repainted, at what resolution, and how the result is pasted back.

A request with `init_image` and `mask` repaints the mask's white area (any channel above 127), with its
ControlNets still active, through diffusers' inpaint pipelines (ordinary 4-channel UNets blend the kept latents
each step; dedicated 9-channel inpainting UNets see the mask and the masked picture).

- Whole picture (default): picture and mask are fitted to the output size (crop and resize), like a refine.
- Only masked (`inpaint_only_masked`): the mask's bounding box, grown by `inpaint_padding` pixels and widened to
  the output's aspect ratio, is cut from the picture at its own resolution, repainted at the output size, scaled
  back and put in place. The result has the picture's size; small areas get the full output resolution. Control
  maps are fitted to the picture and cut the same way.
- Paste-back (as A1111 does): the repainted pixels are blended over the original through the mask feathered by
  `mask_blur` pixels *inside* the mask, so every pixel outside the mask is exactly the original's.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from studio.engine.control_images import fit_image


def binary_mask(mask: np.ndarray) -> np.ndarray:
    """HxW uint8 0/255 from an HxWx3 (or HxW) mask: white where any channel is above 127."""
    gray = mask.max(axis=2) if mask.ndim == 3 else mask
    return np.where(gray > 127, 255, 0).astype(np.uint8)


def fit_mask(mask: np.ndarray, *, width: int, height: int, mode: str = "crop_and_resize") -> np.ndarray:
    """The binary mask fitted to width x height the way the picture is (nearest neighbour, so it stays binary)."""
    binary = binary_mask(mask)
    if binary.shape == (height, width):
        return binary
    rgb = np.repeat(binary[:, :, None], 3, axis=2)
    return binary_mask(fit_image(rgb, width=width, height=height, mode=mode))


def feather(mask: np.ndarray, blur: int) -> np.ndarray:
    """Blend weights (HxW float32 in [0, 1]): 1 deep inside the mask, a soft edge `blur` px wide inside it, and
    exactly 0 outside it."""
    inside = (mask > 0).astype(np.float32)
    if blur <= 0:
        return inside
    kernel = np.ones((2 * blur + 1, 2 * blur + 1), np.uint8)
    shrunk = cv2.erode(inside, kernel, borderType=cv2.BORDER_REPLICATE)
    soft = cv2.GaussianBlur(shrunk, (0, 0), sigmaX=blur / 2, borderType=cv2.BORDER_REPLICATE)
    return np.clip(np.minimum(soft, inside), 0.0, 1.0)


def masked_box(mask: np.ndarray, *, padding: int, aspect: float) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1): the mask's bounding box grown by `padding`, widened to `aspect` (w / h), in the picture."""
    ys, xs = np.nonzero(mask)
    height, width = mask.shape
    x0, x1 = max(0, xs.min() - padding), min(width, xs.max() + 1 + padding)
    y0, y1 = max(0, ys.min() - padding), min(height, ys.max() + 1 + padding)
    box_w, box_h = x1 - x0, y1 - y0
    if box_w / box_h < aspect:
        box_w = min(width, round(box_h * aspect))
    else:
        box_h = min(height, round(box_w / aspect))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    x0 = int(min(max(0, round(cx - box_w / 2)), width - box_w))
    y0 = int(min(max(0, round(cy - box_h / 2)), height - box_h))
    return x0, y0, x0 + box_w, y0 + box_h


def _resize(image: np.ndarray, width: int, height: int) -> np.ndarray:
    if image.shape[:2] == (height, width):
        return image
    return cv2.resize(image, (width, height), interpolation=cv2.INTER_LANCZOS4)


@dataclass
class InpaintJob:
    """What the inpaint pipeline gets (`image`, `mask`, `control_maps` at the output size) and what `finish`
    pastes each repainted image into (`base` with blend weights `alpha`, at `box` when only the masked area ran)."""

    image: np.ndarray
    mask: np.ndarray
    control_maps: list[np.ndarray]
    base: np.ndarray
    alpha: np.ndarray
    box: tuple[int, int, int, int] | None

    def finish(self, generated: Image.Image) -> Image.Image:
        """The repainted image blended over the original: exact outside the mask."""
        out = self.base.astype(np.float32)
        x0, y0, x1, y1 = self.box or (0, 0, self.base.shape[1], self.base.shape[0])
        painted = _resize(np.asarray(generated.convert("RGB")), x1 - x0, y1 - y0).astype(np.float32)
        alpha = self.alpha[y0:y1, x0:x1, None]
        out[y0:y1, x0:x1] = out[y0:y1, x0:x1] * (1.0 - alpha) + painted * alpha
        result = np.clip(np.rint(out), 0, 255).astype(np.uint8)
        keep = self.alpha == 0
        result[keep] = self.base[keep]  # bit-exact where nothing is repainted
        return Image.fromarray(result)


def plan_inpaint(request) -> InpaintJob:
    """The inpaint job of a request with `init_image` and `mask` (see the module docstring)."""
    width, height = request.width, request.height
    controls = request.controls
    if request.inpaint_only_masked:
        base = request.init_image
        full_h, full_w = base.shape[:2]
        mask = fit_mask(request.mask, width=full_w, height=full_h, mode="just_resize")
        box = masked_box(mask, padding=request.inpaint_padding, aspect=width / height)
        x0, y0, x1, y1 = box
        maps = [_resize(fit_image(c.image, width=full_w, height=full_h, mode=c.resize_mode)[y0:y1, x0:x1],
                        width, height) for c in controls]
        image = _resize(np.ascontiguousarray(base[y0:y1, x0:x1]), width, height)
        work_mask = fit_mask(mask[y0:y1, x0:x1], width=width, height=height, mode="just_resize")
        return InpaintJob(image=image, mask=work_mask, control_maps=maps, base=base,
                          alpha=feather(mask, request.mask_blur), box=box)
    base = fit_image(request.init_image, width=width, height=height, mode="crop_and_resize")
    mask = fit_mask(request.mask, width=width, height=height)
    maps = [fit_image(c.image, width=width, height=height, mode=c.resize_mode) for c in controls]
    return InpaintJob(image=base, mask=mask, control_maps=maps, base=base, alpha=feather(mask, request.mask_blur),
                      box=None)
