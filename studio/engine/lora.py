"""LoRAs: finding and checking `.safetensors` LoRA files, the A1111 `<lora:name:weight>` prompt syntax, and
applying them to a loaded pipeline through diffusers (`load_lora_weights`, one named adapter per file,
`set_adapters` with the weights of each run; several at once).

Formats (told apart from the safetensors header, nothing loaded):
- kohya / A1111: `lora_unet_<module>.lora_down.weight` / `.lora_up.weight` / `.alpha`, text encoder keys
  `lora_te_...` (SD 1.x/2.x) or `lora_te1_...` and `lora_te2_...` (SDXL); SDXL UNet modules in the original
  (`input_blocks_4_1_...`) or the diffusers spelling.
- diffusers / PEFT: `unet.<module>.lora_A.weight` / `lora_B.weight` (or the older `.lora.down.weight`), text
  encoders under `text_encoder.` and `text_encoder_2.`.
A LoRA is refused with a message when it is for another model family: its cross-attention keys must take the
base UNet's context width, and an SDXL LoRA (second text encoder) needs an SDXL base. Pickle LoRAs (.pt, .ckpt,
.bin) are refused unless pickle files are allowed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.engine.errors import ModelError, RequestError
from studio.engine.sources import FAMILY_NAMES, PICKLE_SUFFIXES, SAFETENSORS_SUFFIXES, fingerprint, read_tensor_shapes

#: `<lora:name>` or `<lora:name:weight>` (A1111 also allows a third field for the text-encoder weight, ignored).
LORA_TAG = re.compile(r"<lora:([^:<>]+?)(?::([^:<>]*))?(?::[^<>]*)?>")
LORA_SUFFIXES = SAFETENSORS_SUFFIXES + PICKLE_SUFFIXES
MAX_LORA_WEIGHT = 10.0
_CONTEXT_KEYS = re.compile(r"attn2[._]to[._]k(?:\.lora_A\.weight|\.lora\.down\.weight|\.lora_down\.weight)$")


@dataclass(frozen=True)
class LoraInput:
    """One LoRA of a request: a file path and its weight (1.0 = as trained; 0 = off; negative inverts)."""

    path: str
    weight: float = 1.0

    def validate(self, *, index: int = 0) -> None:
        what = f"LoRA {index + 1}"
        if not isinstance(self.path, str) or not self.path.strip():
            raise RequestError(f"{what} has no file.")
        weight = self.weight
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not math.isfinite(weight):
            raise RequestError(f"{what} weight must be a number, got {weight!r}.")
        if abs(weight) > MAX_LORA_WEIGHT:
            raise RequestError(f"{what} weight must be between -{MAX_LORA_WEIGHT:g} and {MAX_LORA_WEIGHT:g}.")

    @property
    def name(self) -> str:
        """The name A1111 uses in `<lora:name:weight>`: the file name without its suffix."""
        return Path(self.path).stem


def parse_lora_arg(text: str) -> LoraInput:
    """`FILE[:WEIGHT]` (as --lora takes it) -> LoraInput; a path that itself holds ':' keeps working."""
    path, sep, weight = text.rpartition(":")
    if sep:
        try:
            return LoraInput(path=path, weight=float(weight))
        except ValueError:
            pass
    return LoraInput(path=text, weight=1.0)


def split_prompt_loras(prompt: str) -> tuple[str, list[tuple[str, float]]]:
    """The prompt without its `<lora:name:weight>` tags, and (name, weight) for each tag, in order."""
    found: list[tuple[str, float]] = []

    def take(match: re.Match) -> str:
        name, weight = match.group(1).strip(), match.group(2)
        try:
            value = 1.0 if weight is None or not weight.strip() else float(weight)
        except ValueError as exc:
            raise RequestError(f"The LoRA tag {match.group(0)} has a weight that is not a number.") from exc
        if not math.isfinite(value):
            raise RequestError(f"The LoRA tag {match.group(0)} has a weight that is not a finite number.")
        found.append((name, value))
        return ""

    cleaned = LORA_TAG.sub(take, prompt)
    if found:
        cleaned = re.sub(r"[ \t]{2,}", " ", cleaned)
        cleaned = re.sub(r"\s+,", ",", cleaned).strip(" ,\t\n")
    return cleaned, found


def find_lora(name: str, folder: str | Path | None) -> Path:
    """The file for `<lora:name>` in the LoRA folder (searched recursively; `.safetensors` first)."""
    if folder is None:
        raise RequestError(f"The prompt names the LoRA {name!r}, but no LoRA folder is set; set one with "
                           "`studio models set --lora-dir DIR` or pass the file with --lora.")
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise RequestError(f"The LoRA folder {root} does not exist.")
    for suffix in LORA_SUFFIXES:
        direct = root / f"{name}{suffix}"
        if direct.is_file():
            return direct
    for suffix in LORA_SUFFIXES:
        matches = sorted(p for p in root.rglob(f"*{suffix}") if p.stem == Path(name).name)
        if matches:
            return matches[0]
    raise RequestError(f"No LoRA named {name!r} in {root}.")


def list_loras(folder: str | Path | None) -> list[Path]:
    """Every LoRA file under `folder` (for the window's list), sorted by name."""
    if folder is None or not Path(folder).is_dir():
        return []
    return sorted((p for p in Path(folder).rglob("*") if p.suffix.lower() in LORA_SUFFIXES and p.is_file()),
                  key=lambda p: p.stem.lower())


@dataclass(frozen=True)
class LocatedLora:
    """A LoRA file found and checked (not loaded). layout: "kohya" or "diffusers"; context_width: the width its
    cross-attention keys take (None when it adapts no cross-attention); sdxl: it adapts a second text encoder."""

    path: Path
    weight: float
    layout: str
    context_width: int | None
    sdxl: bool
    fingerprint: str
    size_bytes: int

    @property
    def name(self) -> str:
        return self.path.stem

    def identity(self) -> dict[str, Any]:
        return {"role": "lora", "source": str(self.path), "path": str(self.path), "layout": "file",
                "hub_id": None, "fingerprint": self.fingerprint, "size_bytes": self.size_bytes,
                "weight": float(self.weight)}


def classify_lora(path: Path, shapes: dict[str, tuple[int, ...]]) -> tuple[str, int | None, bool]:
    """(layout, context width, is SDXL) of a LoRA state dict; raises `ModelError` when it is not a LoRA."""
    keys = list(shapes)
    if any(k.startswith(("lora_unet_", "lora_te_", "lora_te1_", "lora_te2_")) for k in keys):
        layout = "kohya"
        sdxl = any(k.startswith(("lora_te1_", "lora_te2_")) for k in keys)
    elif any(k.startswith(("unet.", "text_encoder.", "text_encoder_2.")) and "lora" in k for k in keys):
        layout = "diffusers"
        sdxl = any(k.startswith("text_encoder_2.") for k in keys)
    elif any(k.startswith("model.diffusion_model.") for k in keys):
        raise ModelError(f"{path} is a full Stable Diffusion checkpoint, not a LoRA.")
    elif any("lora" in k.lower() for k in keys):
        raise ModelError(f"{path} is a LoRA for a model Studio does not load (not SD 1.x/2.x/SDXL).")
    else:
        raise ModelError(f"{path} is not a LoRA (no LoRA weights in it).")
    width = None
    for key, shape in shapes.items():
        if _CONTEXT_KEYS.search(key) and len(shape) >= 2:
            width = int(shape[1])
            break
    return layout, width, sdxl


def _family_label(width: int | None, sdxl: bool) -> str:
    if sdxl or width == 2048:
        return FAMILY_NAMES["sdxl"]
    return {768: FAMILY_NAMES["sd1"], 1024: FAMILY_NAMES["sd2"]}.get(width, f"a cross-attention width of {width}")


def locate_lora(lora: LoraInput, *, allow_pickle: bool, base_family: str, context_width: int) -> LocatedLora:
    """Find and check a LoRA file against the base model (its family and UNet context width)."""
    path = Path(lora.path).expanduser()
    if not path.is_file():
        raise ModelError(f"The LoRA file {path} does not exist.")
    if path.suffix.lower() not in LORA_SUFFIXES:
        raise ModelError(f"{path} is not a LoRA file Studio reads (.safetensors, or pickle files if allowed).")
    shapes = read_tensor_shapes(path, allow_pickle=allow_pickle)
    layout, width, sdxl = classify_lora(path, shapes)
    base_label = FAMILY_NAMES.get(base_family, base_family)
    if (sdxl and base_family != "sdxl") or (width is not None and width != context_width):
        raise ModelError(f"The LoRA {path.name} is for {_family_label(width, sdxl)}; the base model is "
                         f"{base_label} (cross-attention width {context_width}), so it cannot be used with it.")
    digest, size = fingerprint(path)
    return LocatedLora(path=path, weight=float(lora.weight), layout=layout, context_width=width, sdxl=sdxl,
                       fingerprint=digest, size_bytes=size)


def resolve_request_loras(prompt: str, loras: list[LoraInput], lora_dir: str | None) -> tuple[str, list[LoraInput]]:
    """The prompt without LoRA tags and every LoRA to use: the request's own, then those the tags name."""
    cleaned, tags = split_prompt_loras(prompt)
    resolved = list(loras) + [LoraInput(str(find_lora(name, lora_dir)), weight) for name, weight in tags]
    return cleaned, resolved


class LoraState:
    """The LoRA adapters loaded into one base pipeline (shared by every pipeline built from it)."""

    def __init__(self) -> None:
        self._adapters: dict[tuple[str, str], str] = {}
        self._active = False

    def apply(self, pipe: Any, loras: list[LocatedLora], *, allow_pickle: bool) -> None:
        """Load what is new and set the adapters and weights of this run; no LoRA turns all of them off."""
        if not loras:
            if self._active:
                pipe.disable_lora()
                self._active = False
            return
        names = []
        for lora in loras:
            key = (str(lora.path), lora.fingerprint)
            if key not in self._adapters:
                name = f"lora{len(self._adapters)}_{lora.fingerprint[:8]}"
                self._load(pipe, lora, name, allow_pickle=allow_pickle)
                self._adapters[key] = name
            names.append(self._adapters[key])
        if len(set(names)) != len(names):
            raise RequestError("The same LoRA is given twice; give each LoRA once with its weight.")
        pipe.enable_lora()
        pipe.set_adapters(names, adapter_weights=[lora.weight for lora in loras])
        self._active = True

    @staticmethod
    def _load(pipe: Any, lora: LocatedLora, name: str, *, allow_pickle: bool) -> None:
        from studio.engine.sources import load_pickle_state_dict

        source: Any = str(lora.path)
        if lora.path.suffix.lower() in PICKLE_SUFFIXES:
            source = load_pickle_state_dict(lora.path)  # refused earlier unless allowed
        try:
            if isinstance(source, str):
                pipe.load_lora_weights(str(lora.path.parent), weight_name=lora.path.name, adapter_name=name,
                                       local_files_only=True)
            else:
                pipe.load_lora_weights(source, adapter_name=name)
        except (ValueError, KeyError, RuntimeError, OSError, TypeError, AttributeError) as exc:
            try:
                pipe.delete_adapters([name])
            except (ValueError, KeyError, RuntimeError, AttributeError):
                pass
            raise ModelError(f"Cannot load the LoRA {lora.path}: {exc}") from exc
