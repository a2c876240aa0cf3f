"""The model settings file: which base models and ControlNets the engine loads, on which device.

Stored as JSON at `<config dir>/models.json`; the config dir is `$STUDIO_CONFIG_DIR` when set (tests), else the
platform's user config folder (platformdirs). Example:

    {"version": 1, "active": "sd15",
     "models": {"sd15": {"base": "/models/v1-5.safetensors", "config": null,
                         "controlnets": {"edge": "/models/control_v11p_sd15_scribble.safetensors"}}},
     "allow_pickle": false, "device": "auto", "dtype": "auto", "lora_dir": "/models/loras"}

`lora_dir` (optional) is the folder `<lora:NAME:WEIGHT>` prompt tags are looked up in (and the window lists);
without it a diffusers base folder's own `loras/` is used.

A model source is a local diffusers folder, a single `.safetensors` file, or a Hugging Face hub id (`org/name`)
resolved from the local HF cache only.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.engine.errors import SettingsError
from studio.engine.request import CONTROL_KINDS

SETTINGS_VERSION = 1
SETTINGS_FILE = "models.json"
DEVICES = ("auto", "cuda", "cpu")
DTYPES = ("auto", "fp16", "bf16", "fp32")


def config_dir() -> Path:
    """The folder holding Studio's settings: $STUDIO_CONFIG_DIR, else the user config folder."""
    override = os.environ.get("STUDIO_CONFIG_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_config_dir("controlnet-studio", appauthor=False))


def settings_path() -> Path:
    """Where the model settings file lives."""
    return config_dir() / SETTINGS_FILE


@dataclass
class ModelEntry:
    """One base model and the ControlNets (one per control kind) that go with it.

    `config` names a diffusers config folder for a single-file base model when none sits next to the file.
    """

    base: str
    controlnets: dict[str, str] = field(default_factory=dict)
    config: str | None = None

    def validate(self, *, name: str) -> None:
        """Raise `SettingsError` for an empty source or an unknown control kind."""
        if not isinstance(self.base, str) or not self.base.strip():
            raise SettingsError(f"Model {name!r} has no base model source.")
        for kind, source in self.controlnets.items():
            if kind not in CONTROL_KINDS:
                raise SettingsError(
                    f"Model {name!r} names a ControlNet for unknown kind {kind!r}; kinds: {', '.join(CONTROL_KINDS)}."
                )
            if not isinstance(source, str) or not source.strip():
                raise SettingsError(f"Model {name!r} has an empty ControlNet source for {kind}.")


@dataclass
class ModelSettings:
    """Everything the engine needs to find and place models."""

    models: dict[str, ModelEntry] = field(default_factory=dict)
    active: str | None = None
    allow_pickle: bool = False
    device: str = "auto"
    dtype: str = "auto"
    lora_dir: str | None = None

    @classmethod
    def for_model(cls, base: str, *, controlnets: dict[str, str] | None = None, config: str | None = None,
                  **options: Any) -> ModelSettings:
        """Settings with one active model, e.g. from command-line flags (the settings file is not touched)."""
        settings = cls(models={"default": ModelEntry(base=base, controlnets=dict(controlnets or {}),
                                                      config=config)}, active="default", **options)
        settings.validate()
        return settings

    def active_entry(self) -> ModelEntry:
        """The active model; raises `SettingsError` when none is set up."""
        if not self.models:
            raise SettingsError(
                "No model is set up; add one with `studio models add NAME PATH` or pass --model."
            )
        name = self.active if self.active is not None else next(iter(self.models))
        if name not in self.models:
            raise SettingsError(f"The active model {name!r} is not in the settings; known: {', '.join(self.models)}.")
        return self.models[name]

    def validate(self) -> None:
        """Raise `SettingsError` for bad values."""
        if self.device not in DEVICES:
            raise SettingsError(f"Unknown device {self.device!r}; choose one of: {', '.join(DEVICES)}.")
        if self.dtype not in DTYPES:
            raise SettingsError(f"Unknown dtype {self.dtype!r}; choose one of: {', '.join(DTYPES)}.")
        if self.lora_dir is not None and (not isinstance(self.lora_dir, str) or not self.lora_dir.strip()):
            raise SettingsError("The LoRA folder must be a folder path (or null).")
        if not isinstance(self.allow_pickle, bool):
            raise SettingsError("allow_pickle must be true or false.")
        if self.active is not None and self.active not in self.models:
            raise SettingsError(f"The active model {self.active!r} is not in the settings.")
        for name, entry in self.models.items():
            entry.validate(name=name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready data."""
        return {
            "version": SETTINGS_VERSION, "active": self.active, "allow_pickle": self.allow_pickle,
            "device": self.device, "dtype": self.dtype, "lora_dir": self.lora_dir,
            "models": {name: {"base": e.base, "config": e.config, "controlnets": dict(e.controlnets)}
                       for name, e in self.models.items()},
        }

    @classmethod
    def from_dict(cls, data: Any) -> ModelSettings:
        """Build from `to_dict` output; raises `SettingsError` for malformed data."""
        if not isinstance(data, dict):
            raise SettingsError("The model settings must be a JSON object.")
        if data.get("version", SETTINGS_VERSION) != SETTINGS_VERSION:
            raise SettingsError(f"Model settings version {data.get('version')!r} is not supported.")
        models_data = data.get("models", {})
        if not isinstance(models_data, dict):
            raise SettingsError("The settings' models must be a JSON object of name -> model.")
        models = {}
        for name, entry in models_data.items():
            if not isinstance(entry, dict) or not isinstance(entry.get("controlnets", {}), dict):
                raise SettingsError(f"Model {name!r} in the settings is malformed.")
            models[name] = ModelEntry(base=entry.get("base", ""), controlnets=dict(entry.get("controlnets", {})),
                                      config=entry.get("config"))
        settings = cls(models=models, active=data.get("active"), allow_pickle=data.get("allow_pickle", False),
                       device=data.get("device", "auto"), dtype=data.get("dtype", "auto"),
                       lora_dir=data.get("lora_dir"))
        settings.validate()
        return settings

    @classmethod
    def load(cls, path: Path | None = None) -> ModelSettings:
        """Read the settings file; a missing file gives empty settings."""
        path = path or settings_path()
        if not path.exists():
            return cls()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SettingsError(f"Cannot read the model settings file {path} ({exc}).") from exc
        return cls.from_dict(data)

    def save(self, path: Path | None = None) -> Path:
        """Write the settings file atomically (a crash never leaves half a file)."""
        self.validate()
        path = path or settings_path()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            temp = path.with_suffix(".json.tmp")
            temp.write_text(json.dumps(self.to_dict(), indent=2), encoding="utf-8")
            os.replace(temp, path)
        except OSError as exc:
            raise SettingsError(f"Cannot write the model settings file {path} ({exc}).") from exc
        return path
