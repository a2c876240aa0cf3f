"""Generation requests as plain data: `GenerationRequest` and its `ControlInput`s.

A request is everything the engine needs besides the models: same request + same seed + same models on the same
device gives the same image. Requests round-trip through JSON (`to_dict`/`from_dict`, `to_json`/`from_json`);
images travel as base64 PNG when included. `from_dict` checks structure and types only; `validate()` checks
values and raises `RequestError` with one clear sentence.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from PIL import Image

from studio.engine.errors import RequestError
from studio.engine.lora import LoraInput

FORMAT_VERSION = 1
SCHEDULERS = ("unipc", "dpmpp_2m_karras", "euler_a", "ddim", "lcm")
CONTROL_KINDS = ("edge", "pose", "depth")
CONTROL_MODES = ("balanced", "prompt", "control")
RESIZE_MODES = ("just_resize", "crop_and_resize", "resize_and_fill")

MIN_SIZE, MAX_SIZE = 64, 4096
MAX_STEPS = 500
MAX_GUIDANCE = 50.0
MAX_BATCH = 16
MAX_CONTROL_WEIGHT = 2.0
MAX_SEED = 2**64 - 1


def image_to_base64_png(image: np.ndarray) -> str:
    """Encode an HxWx3 uint8 RGB array as base64 PNG text."""
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(image), mode="RGB").save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def image_from_base64_png(text: str, *, what: str) -> np.ndarray:
    """Decode base64 PNG (or any image PIL reads) text into an HxWx3 uint8 RGB array."""
    if not isinstance(text, str):
        raise RequestError(f"{what} must be base64 PNG text, got {type(text).__name__}.")
    from studio.imageio import ImageLoadError, open_image  # the limited reader: pixels, bytes, ratio, metadata

    try:
        data = base64.b64decode(text, validate=True)
        return np.asarray(open_image(data).convert("RGB"), dtype=np.uint8).copy()
    except (binascii.Error, ValueError, ImageLoadError, OSError) as exc:
        raise RequestError(f"{what} is not a readable base64 PNG image ({exc}).") from exc


def _check_image(image: Any, *, what: str) -> None:
    if not isinstance(image, np.ndarray):
        raise RequestError(f"{what} must be an HxWx3 uint8 RGB numpy array, got {type(image).__name__}.")
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise RequestError(
            f"{what} must be an HxWx3 uint8 RGB array, got shape {image.shape} and dtype {image.dtype}."
        )
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise RequestError(f"{what} is empty (shape {image.shape}).")


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool)


def _check_choice(value: Any, choices: tuple[str, ...], *, what: str) -> None:
    if value not in choices:
        raise RequestError(f"{what} {value!r} is unknown; choose one of: {', '.join(choices)}.")


def _check_range(value: Any, low: float, high: float, *, what: str, integer: bool = False) -> None:
    ok_type = _is_int(value) if integer else _is_number(value)
    kind = "a whole number" if integer else "a number"
    if not ok_type or (not integer and not math.isfinite(float(value))):
        raise RequestError(f"{what} must be {kind}, got {value!r}.")
    if not low <= value <= high:
        raise RequestError(f"{what} must be between {low:g} and {high:g}, got {value!r}.")


def _arrays_equal(a: np.ndarray | None, b: np.ndarray | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return a.shape == b.shape and a.dtype == b.dtype and bool(np.array_equal(a, b))


@dataclass(eq=False)
class ControlInput:
    """One control map for one ControlNet.

    kind: "edge" | "pose" | "depth". image: HxWx3 uint8 RGB (None only after a JSON round trip without images).
    weight: conditioning scale (0..2). start, end: fractions of the steps during which the control acts.
    mode: "balanced" (plain ControlNet), "prompt" (control weakened, prompt leads) or "control" (guess mode:
    the control is applied to the conditional branch only and leads). resize_mode: how the map is fitted to the
    output size: "just_resize" (stretch), "crop_and_resize" (cover, crop the overflow), "resize_and_fill"
    (fit inside, pad with black).
    """

    kind: str
    image: np.ndarray | None
    weight: float = 1.0
    start: float = 0.0
    end: float = 1.0
    mode: str = "balanced"
    resize_mode: str = "crop_and_resize"

    def validate(self, *, index: int = 0) -> None:
        """Raise `RequestError` if any value is out of range."""
        what = f"Control {index + 1}"
        _check_choice(self.kind, CONTROL_KINDS, what=f"{what} kind")
        what = f"{what} ({self.kind})"
        if self.image is None:
            raise RequestError(f"{what} has no image.")
        _check_image(self.image, what=f"{what} image")
        _check_range(self.weight, 0.0, MAX_CONTROL_WEIGHT, what=f"{what} weight")
        _check_range(self.start, 0.0, 1.0, what=f"{what} start")
        _check_range(self.end, 0.0, 1.0, what=f"{what} end")
        if self.start >= self.end:
            raise RequestError(f"{what} start ({self.start:g}) must be before its end ({self.end:g}).")
        _check_choice(self.mode, CONTROL_MODES, what=f"{what} mode")
        _check_choice(self.resize_mode, RESIZE_MODES, what=f"{what} resize mode")

    def to_dict(self, *, include_images: bool = True) -> dict[str, Any]:
        """Plain JSON-ready data; the image as base64 PNG, or None when `include_images` is false."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["image"] = image_to_base64_png(self.image) if include_images and self.image is not None else None
        data["weight"], data["start"], data["end"] = float(self.weight), float(self.start), float(self.end)
        return data

    @classmethod
    def from_dict(cls, data: Any, *, index: int = 0) -> ControlInput:
        """Build from `to_dict` output; raises `RequestError` on missing keys or wrong types."""
        what = f"Control {index + 1}"
        values = _take_fields(cls, data, what=what, required=("kind",))
        if values.get("image") is not None:
            values["image"] = image_from_base64_png(values["image"], what=f"{what} image")
        values.setdefault("image", None)
        for name in ("weight", "start", "end"):
            if name in values and not _is_number(values[name]):
                raise RequestError(f"{what} {name} must be a number, got {values[name]!r}.")
        return cls(**values)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ControlInput):
            return NotImplemented
        same_fields = all(
            getattr(self, f.name) == getattr(other, f.name) for f in fields(self) if f.name != "image"
        )
        return same_fields and _arrays_equal(self.image, other.image)


@dataclass(eq=False)
class GenerationRequest:
    """Everything a generation needs besides the models.

    seed None means "pick one at random" (the result reports the seed used). `init_image` + `strength` turn the
    run into a refine (img2img) of that image: strength 1.0 repaints fully, small values keep it close.
    `mask` (HxWx3 uint8, white = repaint) with `init_image` makes it an inpaint (see inpaint.py): `mask_blur`
    feathers the paste-back edge (pixels, inside the mask), `inpaint_only_masked` repaints the mask's area (grown
    by `inpaint_padding` pixels) at the full output size and pastes it into the picture at its own size.
    `hires_scale` > 1 adds the hires-fix second pass (see hires.py); the result is then that much larger.
    """

    prompt: str
    negative_prompt: str = ""
    width: int = 512
    height: int = 512
    steps: int = 20
    guidance_scale: float = 7.0
    seed: int | None = None
    scheduler: str = "unipc"
    batch_size: int = 1
    controls: list[ControlInput] = field(default_factory=list)
    init_image: np.ndarray | None = None
    strength: float = 0.6
    loras: list[LoraInput] = field(default_factory=list)
    mask: np.ndarray | None = None
    mask_blur: int = 4
    inpaint_only_masked: bool = False
    inpaint_padding: int = 32
    hires_scale: float = 1.0
    hires_strength: float = 0.5
    hires_steps: int = 0
    hires_upscaler: str = "lanczos"

    def validate(self) -> None:
        """Raise `RequestError` with one clear sentence for the first bad value."""
        for name in ("prompt", "negative_prompt"):
            if not isinstance(getattr(self, name), str):
                raise RequestError(f"The {name.replace('_', ' ')} must be text.")
        for name in ("width", "height"):
            value = getattr(self, name)
            _check_range(value, MIN_SIZE, MAX_SIZE, what=f"The {name}", integer=True)
            if value % 8:
                raise RequestError(f"The {name} must be a multiple of 8, got {value}.")
        _check_range(self.steps, 1, MAX_STEPS, what="The number of steps", integer=True)
        _check_range(self.guidance_scale, 0.0, MAX_GUIDANCE, what="The guidance scale")
        if self.seed is not None:
            _check_range(self.seed, 0, MAX_SEED, what="The seed", integer=True)
        _check_choice(self.scheduler, SCHEDULERS, what="The scheduler")
        _check_range(self.batch_size, 1, MAX_BATCH, what="The batch size", integer=True)
        if not isinstance(self.controls, (list, tuple)):
            raise RequestError("The controls must be a list of ControlInput.")
        seen: set[str] = set()
        for index, control in enumerate(self.controls):
            if not isinstance(control, ControlInput):
                raise RequestError(f"Control {index + 1} is not a ControlInput.")
            control.validate(index=index)
            if control.kind in seen:
                raise RequestError(f"There are two {control.kind} controls; give at most one per kind.")
            seen.add(control.kind)
        if not isinstance(self.loras, (list, tuple)) or not all(isinstance(x, LoraInput) for x in self.loras):
            raise RequestError("The LoRAs must be a list of LoraInput.")
        for index, lora in enumerate(self.loras):
            lora.validate(index=index)
        if self.mask is not None:
            if self.init_image is None:
                raise RequestError("A mask needs the image to inpaint (--init IMAGE).")
            _check_image(self.mask, what="The mask")
            if not (self.mask > 127).any():
                raise RequestError("The mask is empty: paint (white) the area to repaint.")
            if self.inpaint_only_masked and self.mask.shape[:2] != self.init_image.shape[:2]:
                raise RequestError(f"The mask is {self.mask.shape[1]}x{self.mask.shape[0]} but the image is "
                                   f"{self.init_image.shape[1]}x{self.init_image.shape[0]}; they must match.")
        _check_range(self.mask_blur, 0, 256, what="The mask blur", integer=True)
        _check_range(self.inpaint_padding, 0, MAX_SIZE, what="The inpaint padding", integer=True)
        if not isinstance(self.inpaint_only_masked, bool):
            raise RequestError("inpaint_only_masked must be true or false.")
        from studio.engine.hires import MAX_HIRES_SCALE, UPSCALERS

        _check_range(self.hires_scale, 1.0, MAX_HIRES_SCALE, what="The hires scale")
        if self.hires_scale > 1.0:
            if self.init_image is not None:
                raise RequestError("Hires fix is for text-to-image runs; refine or inpaint at the size you want.")
            _check_range(self.hires_strength, 0.01, 1.0, what="The hires strength")
            _check_range(self.hires_steps, 0, MAX_STEPS, what="The hires steps", integer=True)
            _check_choice(self.hires_upscaler, UPSCALERS, what="The hires upscaler")
            if self.hires_strength * (self.hires_steps or self.steps) < 1:
                raise RequestError("The hires strength and steps leave no step to run; raise either.")
        if self.init_image is not None:
            _check_image(self.init_image, what="The image to refine")
            _check_range(self.strength, 0.0, 1.0, what="The refine strength")
            if self.strength <= 0.0:
                raise RequestError("The refine strength must be above 0.")
            if self.strength * self.steps < 1:
                raise RequestError(
                    f"Refine strength {self.strength:g} with {self.steps} steps leaves no step to run; "
                    "raise the strength or the steps."
                )

    @property
    def is_inpaint(self) -> bool:
        """True when this request repaints the masked area of an init image."""
        return self.init_image is not None and self.mask is not None

    @property
    def is_refine(self) -> bool:
        """True when this request refines an init image (img2img)."""
        return self.init_image is not None

    def to_dict(self, *, include_images: bool = True) -> dict[str, Any]:
        """Plain JSON-ready data; images as base64 PNG, or None when `include_images` is false."""
        data: dict[str, Any] = {"version": FORMAT_VERSION}
        for f in fields(self):
            data[f.name] = getattr(self, f.name)
        data["guidance_scale"] = float(self.guidance_scale)
        data["strength"] = float(self.strength)
        data["hires_scale"], data["hires_strength"] = float(self.hires_scale), float(self.hires_strength)
        data["seed"] = None if self.seed is None else int(self.seed)
        data["controls"] = [c.to_dict(include_images=include_images) for c in self.controls]
        data["loras"] = [{"path": lora.path, "weight": float(lora.weight)} for lora in self.loras]
        has_init = include_images and self.init_image is not None
        data["init_image"] = image_to_base64_png(self.init_image) if has_init else None
        data["mask"] = image_to_base64_png(self.mask) if include_images and self.mask is not None else None
        return data

    @classmethod
    def from_dict(cls, data: Any) -> GenerationRequest:
        """Build from `to_dict` output; raises `RequestError` on missing keys, unknown keys or wrong types."""
        if isinstance(data, dict) and "version" in data:
            version = data["version"]
            if not _is_int(version) or not 1 <= version <= FORMAT_VERSION:
                raise RequestError(f"Request format version {version!r} is not supported by this version.")
            data = {k: v for k, v in data.items() if k != "version"}
        values = _take_fields(cls, data, what="The request", required=("prompt",))
        controls = values.get("controls", [])
        if not isinstance(controls, list):
            raise RequestError("The request's controls must be a list.")
        values["controls"] = [ControlInput.from_dict(c, index=i) for i, c in enumerate(controls)]
        loras = values.get("loras", [])
        if not isinstance(loras, list) or not all(
                isinstance(x, dict) and set(x) <= {"path", "weight"} and isinstance(x.get("path"), str)
                and _is_number(x.get("weight", 1.0)) for x in loras):
            raise RequestError("The request's loras must be a list of {\"path\": text, \"weight\": number}.")
        values["loras"] = [LoraInput(path=x["path"], weight=float(x.get("weight", 1.0))) for x in loras]
        if values.get("init_image") is not None:
            values["init_image"] = image_from_base64_png(values["init_image"], what="The image to refine")
        if values.get("mask") is not None:
            values["mask"] = image_from_base64_png(values["mask"], what="The mask")
        for name in ("hires_scale", "hires_strength"):
            if name in values and not _is_number(values[name]):
                raise RequestError(f"The request's {name} must be a number, got {values[name]!r}.")
        for name in ("mask_blur", "inpaint_padding", "hires_steps"):
            if name in values and not _is_int(values[name]):
                raise RequestError(f"The request's {name} must be a whole number, got {values[name]!r}.")
        for name in ("width", "height", "steps", "batch_size"):
            if name in values and not _is_int(values[name]):
                raise RequestError(f"The request's {name} must be a whole number, got {values[name]!r}.")
        for name in ("guidance_scale", "strength"):
            if name in values and not _is_number(values[name]):
                raise RequestError(f"The request's {name} must be a number, got {values[name]!r}.")
        if values.get("seed") is not None and not _is_int(values["seed"]):
            raise RequestError(f"The request's seed must be a whole number or null, got {values['seed']!r}.")
        return cls(**values)

    def to_json(self, *, include_images: bool = True) -> str:
        """JSON text of `to_dict`."""
        return json.dumps(self.to_dict(include_images=include_images), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> GenerationRequest:
        """Parse JSON text made by `to_json`; raises `RequestError` if it is not valid JSON or not a request."""
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError, TypeError) as exc:
            raise RequestError(f"The request is not valid JSON ({exc}).") from exc
        return cls.from_dict(data)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, GenerationRequest):
            return NotImplemented
        plain = ("init_image", "mask")
        same_fields = all(
            getattr(self, f.name) == getattr(other, f.name) for f in fields(self) if f.name not in plain
        )
        return same_fields and _arrays_equal(self.init_image, other.init_image) and _arrays_equal(self.mask,
                                                                                                   other.mask)


def _take_fields(cls: type, data: Any, *, what: str, required: tuple[str, ...]) -> dict[str, Any]:
    """Check that `data` is a dict with the dataclass's keys only and the required ones present."""
    if not isinstance(data, dict):
        raise RequestError(f"{what} must be a JSON object, got {type(data).__name__}.")
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise RequestError(f"{what} has unknown field(s): {', '.join(unknown)}.")
    missing = [name for name in required if name not in data]
    if missing:
        raise RequestError(f"{what} lacks the field(s): {', '.join(missing)}.")
    for name in ("prompt", "negative_prompt", "kind", "mode", "resize_mode", "scheduler", "hires_upscaler"):
        if name in data and not isinstance(data[name], str):
            raise RequestError(f"{what} field {name} must be text, got {data[name]!r}.")
    return dict(data)
