"""The window's LoRAs: which folder they come from, the files in it, the panel's list, and the folder setting.

The folder is the model settings' `lora_dir`; without one, a diffusers base folder's own `loras/` (as the engine
looks up `<lora:NAME:WEIGHT>` prompt tags). The panel's list holds each LoRA once, by file path; adding one that
is there already switches it on instead. Whether a LoRA fits the base model (family, pickle) is the engine's
check at generation time (`studio.engine.lora.locate_lora`); its message is what the window shows.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from studio.app.generation_settings import LoraSetting
from studio.engine.errors import SettingsError
from studio.engine.lora import LORA_SUFFIXES, MAX_LORA_WEIGHT, list_loras
from studio.engine.settings import ModelSettings


def lora_folder(models: ModelSettings) -> Path | None:
    """The folder LoRAs are listed from and prompt tags are looked up in, or None."""
    if models.lora_dir:
        return Path(models.lora_dir).expanduser()
    try:
        entry = models.active_entry()
    except SettingsError:
        return None
    bundled = Path(entry.base).expanduser() / "loras"
    return bundled if bundled.is_dir() else None


def available_loras(models: ModelSettings) -> list[Path]:
    """The LoRA files of the folder, sorted by name (none when there is no folder)."""
    return list_loras(lora_folder(models))


def add_lora(loras: list[LoraSetting], path: str | Path, *, weight: float = 1.0) -> list[LoraSetting]:
    """The list with the LoRA at `path` added at `weight` (switched on if it is listed already)."""
    path = str(path)
    if Path(path).suffix.lower() not in LORA_SUFFIXES:
        raise SettingsError(f"{Path(path).name} is not a LoRA file (.safetensors, or .pt/.ckpt/.bin if pickle "
                            "files are allowed).")
    listed = [dataclasses.replace(lora) for lora in loras]
    for lora in listed:
        if lora.path == path:
            lora.enabled = True
            return listed
    return [*listed, LoraSetting(path=path, weight=max(-MAX_LORA_WEIGHT, min(MAX_LORA_WEIGHT, float(weight))))]


def remove_lora(loras: list[LoraSetting], index: int) -> list[LoraSetting]:
    """The list without entry `index`."""
    return [dataclasses.replace(lora) for i, lora in enumerate(loras) if i != index]


def set_lora_folder(settings_file: Path, folder: str | Path | None) -> ModelSettings:
    """Keep `folder` (None or "": no folder) as the LoRA folder in the model settings file."""
    text = str(folder).strip() if folder is not None else ""
    if text and not Path(text).expanduser().is_dir():
        raise SettingsError(f"The LoRA folder {text} does not exist.")
    settings = ModelSettings.load(settings_file)
    settings.lora_dir = text or None
    settings.save(settings_file)
    return settings
