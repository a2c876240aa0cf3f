"""Generation settings read back from a PNG: the studio's own, and those of A1111/Forge, ComfyUI, InvokeAI,
Fooocus and NovelAI.

- The studio's own PNGs carry `studio_request` (the exact request JSON): it is read exactly, and
  `PngSettings.request` remakes the same pixels with the same models.
- Other tools' PNGs are read through `sd-parsers` (MIT; it knows each tool's chunks: A1111 `parameters`,
  ComfyUI's `prompt` graph, InvokeAI's `invokeai_metadata` / `sd-metadata` / `Dream`, Fooocus's scheme and
  NovelAI's `Comment`). Its values arrive as text or numbers by tool; they are normalised here. A1111's
  parameter line is also read with quotes respected, for what sd-parsers drops there: the `ControlNet N` units,
  `Lora hashes` and `Denoising strength`. LoRAs come from `<lora:name:weight>` tags of the prompt as well.
- Seeds are kept as whole numbers of any size (ComfyUI's and Fooocus's exceed 2^32).
A file that is not a readable image raises `PngReadError`; an image without settings gives `None`.
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from studio.errors import StudioError

#: Sampler names other tools write -> the studio's scheduler names (when one matches).
SAMPLERS = {
    "unipc": "unipc", "uni_pc": "unipc", "uni_pc_bh2": "unipc",
    "dpm++ 2m karras": "dpmpp_2m_karras", "dpmpp_2m karras": "dpmpp_2m_karras",
    "euler a": "euler_a", "euler_ancestral": "euler_a", "k_euler_ancestral": "euler_a", "euler_a": "euler_a",
    "ddim": "ddim", "lcm": "lcm",
}
_A1111_FIELD = re.compile(r'\s*([A-Za-z][\w \-/]*?):\s*("(?:\\.|[^\\"])*"|[^,]*)(?:,|$)')
_LORA_TAG = re.compile(r"<lora:([^:<>]+?)(?::([^:<>]*))?(?::[^<>]*)?>")


class PngReadError(StudioError):
    """The file cannot be read as an image."""


@dataclass
class PngSettings:
    """Generation settings of one image. `source`: "studio" or the tool sd-parsers names (e.g. "AUTOMATIC1111").

    `sampler` is the tool's own name; `scheduler` the studio's equivalent, or None. `request` is the studio's
    exact request (studio PNGs only). `loras`: [{"name", "weight"}]; `controlnets`: one dict per unit.
    `hires`: the hires fix, {"scale", "strength", "steps", "upscaler"} (the tool's upscaler name), or None."""

    source: str
    prompt: str = ""
    negative: str = ""
    seed: int | None = None
    steps: int | None = None
    guidance: float | None = None
    sampler: str | None = None
    scheduler: str | None = None
    width: int | None = None
    height: int | None = None
    model: str | None = None
    model_hash: str | None = None
    strength: float | None = None
    hires: dict[str, Any] | None = None
    loras: list[dict[str, Any]] = field(default_factory=list)
    controlnets: list[dict[str, Any]] = field(default_factory=list)
    request: Any = None
    notes: list[str] = field(default_factory=list)

    def to_json_dict(self) -> dict[str, Any]:
        """JSON-ready fields (the request as its JSON data without images)."""
        data = asdict(self) if self.request is None else {**asdict(_without_request(self)), "request": None}
        if self.request is not None:
            data["request"] = self.request.to_dict(include_images=False)
        return data


def _without_request(settings: PngSettings) -> PngSettings:
    import dataclasses

    return dataclasses.replace(settings, request=None)


def _int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        text = str(value).strip()
        return int(text) if re.fullmatch(r"[-+]?\d+", text) else int(float(text))
    except (ValueError, OverflowError):
        return None


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def scheduler_for(sampler: str | None, scheduler: str | None = None) -> str | None:
    """The studio scheduler for a tool's sampler name (ComfyUI gives the Karras schedule separately)."""
    if not sampler:
        return None
    name = sampler.strip().lower().removeprefix("sample_")
    if name in ("dpmpp_2m", "dpm++ 2m") and (scheduler or "").lower() == "karras":
        return "dpmpp_2m_karras"
    return SAMPLERS.get(name)


def a1111_fields(line: str) -> dict[str, str]:
    """`key: value` pairs of an A1111 parameter line; quoted values (with commas inside) are unquoted."""
    fields = {}
    for match in _A1111_FIELD.finditer(line):
        key, value = match.group(1).strip(), match.group(2).strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        fields[key] = value
    return fields


def _controlnet_unit(text: str) -> dict[str, Any]:
    unit = {key.lower().replace(" ", "_"): value for key, value in a1111_fields(text).items()}
    for key in ("weight", "guidance_start", "guidance_end"):
        if key in unit and _float(unit[key]) is not None:
            unit[key] = _float(unit[key])
    return unit


def _loras_of(prompt: str) -> list[dict[str, Any]]:
    found = []
    for match in _LORA_TAG.finditer(prompt):
        weight = _float(match.group(2)) if match.group(2) else 1.0
        found.append({"name": match.group(1).strip(), "weight": 1.0 if weight is None else weight})
    return found


def _text(value: Any) -> str:
    """Prompt text; Fooocus gives a list (the styled prompt, then its expansion)."""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value if v)
    return "" if value is None else str(value)


def _lora_entry(item: Any) -> dict[str, Any] | None:
    """A LoRA as Fooocus lists it: [name, weight] or, since Fooocus 2.2, [name, weight, hash] (or {"name",
    "weight"})."""
    if isinstance(item, dict) and "name" in item:
        return {"name": str(item["name"]), "weight": _float(item.get("weight", 1.0)) or 0.0}
    if isinstance(item, (list, tuple)) and len(item) >= 2 and str(item[0]) not in ("", "None"):
        entry = {"name": str(item[0]), "weight": _float(item[1]) or 0.0}
        if len(item) >= 3 and item[2]:
            entry["hash"] = str(item[2])
        return entry
    return None


def _size(text: Any) -> tuple[int | None, int | None]:
    """"512x400" (A1111) or "(768, 1280)" (Fooocus) -> (width, height)."""
    if text is None:
        return None, None
    match = re.fullmatch(r"\s*(\d+)\s*x\s*(\d+)\s*", str(text))
    if match:
        return int(match.group(1)), int(match.group(2))
    try:
        pair = ast.literal_eval(str(text))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return None, None
    if isinstance(pair, (tuple, list)) and len(pair) == 2 and all(isinstance(v, int) for v in pair):
        return pair[0], pair[1]
    return None, None


def _hires(fields: dict[str, str]) -> dict[str, Any] | None:
    """A1111's hires fix fields ("Hires upscale", "Hires steps", "Hires upscaler", "Denoising strength")."""
    scale = _float(fields.get("Hires upscale"))
    if scale is None:
        return None
    return {"scale": scale, "strength": _float(fields.get("Denoising strength")),
            "steps": _int(fields.get("Hires steps")), "upscaler": fields.get("Hires upscaler")}


def _studio(text: dict[str, str], path: Path) -> PngSettings | None:
    from studio.engine.errors import RequestError
    from studio.engine.metadata import REQUEST_KEY
    from studio.engine.request import GenerationRequest
    from studio.engine.schedulers import scheduler_label

    stored = text.get(REQUEST_KEY)
    if not stored:
        return None
    try:
        request = GenerationRequest.from_json(stored)
    except RequestError as exc:
        raise PngReadError(f"{path} has a studio_request chunk that is not a readable request ({exc}).") from exc
    parameters = text.get("parameters", "")
    fields = a1111_fields(parameters.splitlines()[-1]) if parameters else {}
    return PngSettings(
        source="studio", prompt=request.prompt, negative=request.negative_prompt, seed=request.seed,
        steps=request.steps, guidance=float(request.guidance_scale), sampler=scheduler_label(request.scheduler),
        scheduler=request.scheduler, width=request.width, height=request.height, model=fields.get("Model"),
        model_hash=fields.get("Model hash"), strength=float(request.strength) if request.is_refine else None,
        hires=_hires(fields) if request.hires_scale > 1.0 else None,
        loras=[{"name": lora.name, "weight": float(lora.weight), "path": lora.path} for lora in request.loras]
        + _loras_of(request.prompt),
        controlnets=[{"module": c.kind, "weight": float(c.weight), "guidance_start": float(c.start),
                      "guidance_end": float(c.end), "control_mode": c.mode, "resize_mode": c.resize_mode}
                     for c in request.controls],
        request=request,
    )


def _other(image: Any, path: Path) -> PngSettings | None:
    from sd_parsers import ParserManager

    try:
        info = ParserManager().parse(image)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError, OSError, RecursionError) as exc:
        raise PngReadError(f"{path} has generation settings that cannot be read ({exc}).") from exc
    if info is None:
        return None
    sampler = info.samplers[0] if info.samplers else None
    params = dict(sampler.parameters) if sampler else {}
    meta = info.metadata
    source = getattr(info.generator, "value", str(info.generator))
    settings = PngSettings(source=str(source), prompt=_text(info.full_prompt), negative=_text(info.full_negative_prompt))
    if sampler is not None:
        settings.sampler = sampler.name
        settings.scheduler = scheduler_for(sampler.name, params.get("scheduler"))
        if sampler.model is not None:
            settings.model, settings.model_hash = sampler.model.name, sampler.model.hash
    settings.seed = _int(params.get("seed"))
    settings.steps = _int(params.get("steps", meta.get("steps")))
    settings.guidance = _float(params.get("cfg_scale"))
    settings.strength = _float(params.get("denoise", params.get("strength")))
    width, height = _size(meta.get("Size") or meta.get("resolution"))
    latent = (meta.get("EmptyLatentImage") or [{}])[0]
    settings.width = _int(meta.get("width", latent.get("width"))) or width
    settings.height = _int(meta.get("height", latent.get("height"))) or height
    if len(info.samplers) > 1:
        settings.notes.append(f"The image was made in {len(info.samplers)} sampling passes; the first is shown.")
    settings.loras = _loras_of(settings.prompt) + [_lora_entry(x) for x in meta.get("loras", []) or []
                                                   if _lora_entry(x) is not None]
    raw = info.raw_parameters.get("parameters")
    if source == "AUTOMATIC1111" and isinstance(raw, str) and raw.strip():
        fields = a1111_fields(raw.strip().splitlines()[-1])
        settings.controlnets = [_controlnet_unit(v) for k, v in sorted(fields.items()) if re.fullmatch(r"ControlNet \d+", k)]
        settings.hires = _hires(fields)
        if settings.strength is None and settings.hires is None:
            settings.strength = _float(fields.get("Denoising strength"))
        if "Lora hashes" in fields:
            hashes = dict(item.split(":", 1) for item in fields["Lora hashes"].split(",") if ":" in item)
            for lora in settings.loras:
                lora.setdefault("hash", hashes.get(lora["name"], "").strip() or None)
    return settings


def read_png_settings(path: str | Path) -> PngSettings | None:
    """The generation settings of the image at `path`, or None when it carries none."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as image:
            image.load()
            text = dict(getattr(image, "text", {}) or {})
            own = _studio(text, path)
            return own if own is not None else _other(image, path)
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as exc:
        if isinstance(exc, FileNotFoundError):
            raise PngReadError(f"{path} does not exist.") from exc
        raise PngReadError(f"Cannot read {path} as an image ({exc}).") from exc
