"""The generation panel's settings as history fields, and back.

Each field of `GenerationSettings` is one history setting (`prompt`, `negative_prompt`, `steps`, `seed`, ...);
the per-layer control settings are one field, `controls` ({kind: {enabled, weight, start, end, mode}}), and the
LoRA list another, `loras` ([{path, weight, enabled}]). Reading
fields back is forgiving: a value of the wrong type (a file from another version) is ignored, never fatal.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from studio.app.generation_settings import (
    CONTROL_FIELD_TYPES,
    FIELD_TYPES,
    LORA_FIELD_TYPES,
    GenerationSettings,
    LoraSetting,
)


def settings_fields(settings: GenerationSettings) -> dict[str, Any]:
    """{field: JSON value} of every setting."""
    fields = {name: getattr(settings, name) for name in FIELD_TYPES}
    fields["controls"] = {kind: {key: getattr(control, key) for key in CONTROL_FIELD_TYPES}
                          for kind, control in settings.controls.items()}
    fields["loras"] = [dataclasses.asdict(lora) for lora in settings.loras]
    return fields


def _fits(value: Any, types: tuple[type, ...]) -> bool:
    return isinstance(value, types) and not (isinstance(value, bool) and bool not in types)


def settings_with_fields(base: GenerationSettings, fields: dict[str, Any]) -> GenerationSettings:
    """`base` with the recorded `fields` applied (unknown fields and wrong types are left out)."""
    changes = {name: value for name, value in fields.items()
               if name in FIELD_TYPES and _fits(value, FIELD_TYPES[name])}
    settings = dataclasses.replace(base.copy(), **changes)
    recorded = fields.get("controls")
    if isinstance(recorded, dict):
        for kind, control in settings.controls.items():
            values = recorded.get(kind)
            if not isinstance(values, dict):
                continue
            known = {key: value for key, value in values.items()
                     if key in CONTROL_FIELD_TYPES and _fits(value, CONTROL_FIELD_TYPES[key])}
            settings.controls[kind] = dataclasses.replace(control, **known)
    recorded_loras = fields.get("loras")
    if isinstance(recorded_loras, list):
        settings.loras = [_lora(values) for values in recorded_loras if _lora(values) is not None]
    return settings


def _lora(values: Any) -> LoraSetting | None:
    """A recorded LoRA entry, or None when it has no file path (other keys of the wrong type keep defaults)."""
    if not isinstance(values, dict) or not isinstance(values.get("path"), str) or not values["path"]:
        return None
    known = {key: value for key, value in values.items()
             if key in LORA_FIELD_TYPES and _fits(value, LORA_FIELD_TYPES[key])}
    lora = LoraSetting(**known)
    lora.weight = float(lora.weight)
    return lora

