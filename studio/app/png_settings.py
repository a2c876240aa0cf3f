"""Generation settings from an image (File ▸ Open Settings from Image…, or a PNG dropped on the Generate panel).

The PNG is read by the core (`studio.png.read`): the studio's own `studio_request` chunk exactly, other tools'
(A1111/Forge, ComfyUI, InvokeAI, Fooocus, NovelAI) through sd-parsers, and turned into a request
(`studio.png.remake`). From it come the panel's new settings:
- The prompt (A1111 `<lora:name:weight>` tags stay in it and keep working), negative prompt, seed, steps,
  guidance, scheduler, size and hires fix of the image.
- The studio's own PNG also gives its control-layer settings, LoRAs (by file) and inpaint settings; other tools
  leave controls and inpaint settings as they are (their ControlNet maps are not in the file), and their LoRAs
  listed outside the prompt (Fooocus) are taken from the LoRA folder when found there.
- The model is selected when the image names one of the configured models; else the current one stays.
- The batch size stays (an image is one picture of a batch).
What cannot be carried over is said in `notes`. A file that cannot be read, or carries no settings, raises
`PngSettingsError` and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from studio.app.generation_settings import GenerationSettings, LoraSetting
from studio.errors import StudioError

INPAINT_FIELDS = ("strength", "inpaint_only_masked", "inpaint_padding", "mask_blur")


class PngSettingsError(StudioError):
    """The image's settings cannot be used (unreadable file, or no settings in it)."""


@dataclass
class SettingsFromImage:
    settings: GenerationSettings
    source: str  # "studio", or the tool that made the image
    notes: list[str] = field(default_factory=list)


def settings_from_png(path: str | Path, current: GenerationSettings, *, models: dict[str, str],
                      lora_dir: str | Path | None) -> SettingsFromImage:
    """The panel settings that remake the image at `path`, starting from `current` (see the module docstring).
    `models`: the configured models, name -> base model source (an image names a model by either)."""
    from studio.engine.lora import find_lora, split_prompt_loras
    from studio.png.read import PngReadError, read_png_settings
    from studio.png.remake import request_from_settings

    path = Path(path)
    try:
        found = read_png_settings(path)
    except PngReadError as exc:
        raise PngSettingsError(f"{exc} Nothing was changed.") from exc
    if found is None:
        raise PngSettingsError(f"{path.name} carries no generation settings (no tool wrote any into it). "
                               "Nothing was changed.")
    request, notes = request_from_settings(found)
    read = GenerationSettings.from_request(request, model=current.model)
    read.batch_size = current.batch_size
    own = found.source == "studio"
    if not own:
        read.controls = current.copy().controls
        read.loras = []
    if not (own and request.is_refine):
        for name in INPAINT_FIELDS:
            setattr(read, name, getattr(current, name))
    if own and request.controls:
        notes.append("The control layers' settings are the image's; the layers' drawings are not changed.")
    if own and request.is_inpaint:
        notes.append("The image was an inpaint; its picture and mask are not put on the canvas.")
    named = _model_named(found.model, models)
    if named is not None:
        read.model = named
    elif found.model and own:
        notes.append(f"It was made with the model {found.model!r}, which is not set up here; the current model "
                     "is kept.")
    for lora in read.loras:
        if not Path(lora.path).is_file():
            notes.append(f"The LoRA file {lora.path} is not there any more; add it again or remove it.")
    try:
        in_prompt = {name for name, _weight in split_prompt_loras(request.prompt)[1]}
    except StudioError:  # a tag with a bad weight: the engine says so when the prompt is used
        in_prompt = set()
    for lora in found.loras if not own else []:
        try:
            file = find_lora(lora["name"], lora_dir)
        except StudioError:
            notes.append(f"The LoRA {lora['name']!r} is not in the LoRA folder; put it there or remove it.")
            continue
        if lora["name"] not in in_prompt:
            read.loras.append(LoraSetting(path=str(file), weight=float(lora.get("weight", 1.0))))
    return SettingsFromImage(settings=read, source=found.source, notes=_unique(notes))


def _model_named(name: str | None, models: dict[str, str]) -> str | None:
    """The configured model an image's model name means: by its name, or its base's file or folder name."""
    if not name:
        return None
    if name in models:
        return name
    for key, base in models.items():
        if name in (base, Path(base).stem, Path(base).name):
            return key
    return None


def _unique(notes: list[str]) -> list[str]:
    return list(dict.fromkeys(notes))
