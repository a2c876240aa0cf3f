"""The generation panel's state as plain data, and how it becomes an engine `GenerationRequest`.

The field list is written once, in `GenerationSettings`: the fields it shares with `GenerationRequest`
(`REQUEST_FIELDS`) are copied by name both ways, and their types (`FIELD_TYPES`) are what the history accepts
when settings are read back from a file (`studio.app.history_settings`). Three things are not copied by name:
the per-layer `controls`, the `loras` list (switched-off entries stay in the panel but not in the request) and
`hires_enabled` (off sends `hires_scale` 1.0, so the panel keeps the chosen scale while the fix is off).
"""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from dataclasses import dataclass, field

from typing import Any

import numpy as np

from studio.engine.lora import LoraInput
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


@dataclass
class LoraSetting:
    """One LoRA of the panel's list: its file, weight, and whether it is used."""

    path: str
    weight: float = 1.0
    enabled: bool = True


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
    loras: list[LoraSetting] = field(default_factory=list)
    hires_enabled: bool = False
    hires_scale: float = 2.0
    hires_upscaler: str = "lanczos"
    hires_strength: float = 0.5
    hires_steps: int = 0  # 0: as many as the first pass
    strength: float = 0.6  # how much an inpaint (or refine) repaints
    inpaint_only_masked: bool = False
    inpaint_padding: int = 32
    mask_blur: int = 4

    def copy(self) -> GenerationSettings:
        return copy.deepcopy(self)

    def to_request(self, control_images: dict[str, np.ndarray]) -> GenerationRequest:
        """A request with one ControlInput per enabled layer that has an image in `control_images`, and the
        enabled LoRAs. The inpaint fields are set; a mask and picture (`init_image`, `mask`) make it an inpaint."""
        controls = [
            ControlInput(kind=kind, image=control_images[kind],
                         **{name: getattr(setting, name) for name in CONTROL_REQUEST_FIELDS})
            for kind, setting in self.controls.items()
            if setting.enabled and kind in control_images
        ]
        values = {name: getattr(self, name) for name in REQUEST_FIELDS}
        if not self.hires_enabled:
            values["hires_scale"] = 1.0
        loras = [LoraInput(path=lora.path, weight=float(lora.weight)) for lora in self.loras if lora.enabled]
        return GenerationRequest(**values, controls=controls, loras=loras)

    @classmethod
    def from_request(cls, request: GenerationRequest, *, model: str | None) -> GenerationSettings:
        """Panel state that reproduces `request` (layers without a control in it are switched off)."""
        controls = _default_controls()
        for setting in controls.values():
            setting.enabled = False
        for control in request.controls:
            values = {name: _coerce(CONTROL_FIELD_TYPES, name, getattr(control, name))
                      for name in CONTROL_REQUEST_FIELDS}
            controls[control.kind] = ControlSettings(kind=control.kind, enabled=True, **values)
        values = {name: _coerce(FIELD_TYPES, name, getattr(request, name)) for name in REQUEST_FIELDS}
        values["hires_enabled"] = request.hires_scale > 1.0
        if not values["hires_enabled"]:
            values["hires_scale"] = cls.hires_scale  # the panel's default scale, ready when switched on
        loras = [LoraSetting(path=lora.path, weight=float(lora.weight)) for lora in request.loras]
        return cls(model=model, **values, controls=controls, loras=loras)


def _accepted(hint: Any) -> tuple[type, ...]:
    """The plain types a value of type `hint` may have in a JSON file (an int is a fine float)."""
    if isinstance(hint, (types.UnionType,)) or typing.get_origin(hint) is typing.Union:
        return tuple(t for arg in typing.get_args(hint) for t in _accepted(arg))
    if hint is type(None):
        return (type(None),)
    if hint is float:
        return (int, float)
    return (hint,)


def _field_types(cls: type) -> dict[str, tuple[type, ...]]:
    hints = typing.get_type_hints(cls)
    return {f.name: _accepted(hints[f.name]) for f in dataclasses.fields(cls)}


def _coerce(field_types: dict[str, tuple[type, ...]], name: str, value: Any) -> Any:
    return float(value) if field_types[name] == (int, float) else value


_REQUEST_NAMES = {f.name for f in dataclasses.fields(GenerationRequest)}
#: Settings fields with plain values (all but `controls` and `loras`) -> the types a recorded value may have.
FIELD_TYPES: dict[str, tuple[type, ...]] = {
    name: accepted for name, accepted in _field_types(GenerationSettings).items()
    if name not in ("controls", "loras")}
#: Fields a request takes by the same name (all but `model`, which names the engine's model, not the request's).
REQUEST_FIELDS: tuple[str, ...] = tuple(name for name in FIELD_TYPES if name in _REQUEST_NAMES)
#: The per-layer control fields (all but `kind`) -> accepted types.
CONTROL_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    name: accepted for name, accepted in _field_types(ControlSettings).items() if name != "kind"}
#: Control fields a `ControlInput` takes by the same name (`enabled` decides whether there is one at all).
CONTROL_REQUEST_FIELDS: tuple[str, ...] = tuple(
    name for name in CONTROL_FIELD_TYPES if name in {f.name for f in dataclasses.fields(ControlInput)})
#: The fields of one LoRA entry -> accepted types (what the history reads back).
LORA_FIELD_TYPES: dict[str, tuple[type, ...]] = _field_types(LoraSetting)
