"""Finding models on disk: resolve a source (folder, single file, HF hub id) to a checked `LocatedModel`.

Nothing here loads weights. It resolves hub ids from the local Hugging Face cache only (never the network),
refuses pickle checkpoints unless allowed, reads safetensors headers (a corrupt or truncated file fails here with
a clear message), works out the key layout and family of single files, finds their config folder, and computes a
cheap fingerprint (file names, sizes and modification times) used as the model's identity.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.engine.errors import ModelError

PICKLE_SUFFIXES = (".ckpt", ".pt", ".pth", ".bin")
SAFETENSORS_SUFFIXES = (".safetensors", ".sft")
CONFIG_FOLDER_SUFFIX = ".config"
CONTROLNETS_DIR = "controlnets"
FAMILY_NAMES = {"sd1": "SD 1.x", "sd2": "SD 2.x", "sdxl": "SDXL"}
_HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
_PICKLE_HINT = ("pickle files can run code when loaded; convert it to .safetensors, or allow pickle files with "
                "`studio models set --allow-pickle on`")


@dataclass(frozen=True)
class LocatedModel:
    """A model found on disk, checked, but not loaded.

    role: "base" or a control kind. layout: "folder" (diffusers) or "file" (single checkpoint). key_layout, for
    files: "ldm" (original layout) or "diffusers". family: "sd1" | "sd2" | "sdxl" when the weights tell, else None.
    config_dir: the diffusers config folder a single file is loaded with. union_sizes: for a ControlNet Union
    model (see union.py) the union config values read from its weights ({} when only its config tells), else None.
    """

    role: str
    source: str
    path: Path
    layout: str
    hub_id: str | None
    fingerprint: str
    size_bytes: int
    key_layout: str | None = None
    family: str | None = None
    config_dir: Path | None = None
    union_sizes: dict[str, int] | None = None

    @property
    def is_union(self) -> bool:
        return self.union_sizes is not None

    def identity(self) -> dict[str, Any]:
        """Plain data naming exactly this model version (for results, metadata and caches)."""
        identity = {"role": self.role, "source": self.source, "path": str(self.path), "layout": self.layout,
                    "hub_id": self.hub_id, "fingerprint": self.fingerprint, "size_bytes": self.size_bytes}
        if self.is_union:
            identity["class"] = "ControlNetUnionModel"
        return identity


def hub_cache_dir() -> Path:
    """The Hugging Face hub cache folder, read from the environment at call time."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or os.path.join(os.path.expanduser("~"), ".cache", "huggingface")
    return Path(home) / "hub"


def resolve_hub_id(hub_id: str) -> Path | None:
    """The local snapshot folder of `hub_id` in the HF cache, or None when it is not cached."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo_id=hub_id, cache_dir=hub_cache_dir(), local_files_only=True))
    except (LocalEntryNotFoundError, FileNotFoundError, ValueError, OSError):
        return None


def fingerprint(path: Path, *, skip: str | None = None) -> tuple[str, int]:
    """A short digest of the file names, sizes and modification times under `path` (leaving out the
    top-level folder `skip`), and the total size."""
    if path.is_file():
        files = [path]
    else:
        files = sorted(p for p in path.rglob("*") if p.is_file() and p.relative_to(path).parts[0] != skip)
    digest = hashlib.sha256()
    total = 0
    for file in files:
        stat = file.stat()
        total += stat.st_size
        name = file.name if file == path else file.relative_to(path).as_posix()
        digest.update(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16], total


def read_tensor_shapes(path: Path, *, allow_pickle: bool) -> dict[str, tuple[int, ...]]:
    """Names and shapes of the tensors in a checkpoint, from the safetensors header (no weights read)."""
    suffix = path.suffix.lower()
    if suffix in SAFETENSORS_SUFFIXES:
        from safetensors import SafetensorError, safe_open

        try:
            with safe_open(str(path), framework="pt") as handle:
                return {key: tuple(handle.get_slice(key).get_shape()) for key in handle.keys()}
        except (SafetensorError, OSError) as exc:
            raise ModelError(f"{path} is not a readable safetensors file; it may be corrupt or truncated ({exc}).")
    if suffix in PICKLE_SUFFIXES:
        if not allow_pickle:
            raise ModelError(f"Refusing to load {path}: {_PICKLE_HINT}.")
        return {key: tuple(value.shape) for key, value in load_pickle_state_dict(path).items()}
    raise ModelError(f"{path} is not a model checkpoint Studio reads (.safetensors, or pickle files if allowed).")


def load_pickle_state_dict(path: Path) -> dict[str, Any]:
    """Tensors of an allowed pickle checkpoint (torch.load with weights_only, unwrapping "state_dict")."""
    import pickle

    import torch

    try:
        data = torch.load(str(path), map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, OSError, EOFError) as exc:
        raise ModelError(f"{path} is not a readable checkpoint ({exc}).") from exc
    if isinstance(data, dict) and isinstance(data.get("state_dict"), dict):
        data = data["state_dict"]
    if not isinstance(data, dict):
        raise ModelError(f"{path} holds no state dict of tensors.")
    return {k: v for k, v in data.items() if hasattr(v, "shape")}


def _context_width(shapes: dict[str, tuple[int, ...]]) -> int | None:
    for key, shape in shapes.items():
        if key.endswith("attn2.to_k.weight") and len(shape) == 2:
            return shape[1]
    return None


def _family_from_width(width: int | None, *, sdxl_marker: bool) -> str | None:
    if sdxl_marker or width == 2048:
        return "sdxl"
    return {768: "sd1", 1024: "sd2"}.get(width)


def classify_base_file(path: Path, shapes: dict[str, tuple[int, ...]]) -> tuple[str, str | None]:
    """(key layout, family) of a single-file base checkpoint; raises `ModelError` if it is not one."""
    if not any(key.startswith("model.diffusion_model.") for key in shapes):
        if any(key.startswith(("control_model.", "controlnet_cond_embedding.", "input_hint_block.")) for key in shapes):
            raise ModelError(f"{path} is a ControlNet, not a base model.")
        raise ModelError(f"{path} is not a Stable Diffusion checkpoint (no UNet weights in the original layout).")
    conv_in = shapes.get("model.diffusion_model.input_blocks.0.0.weight")
    if conv_in is not None and conv_in[1] not in (4, 9):
        raise ModelError(f"{path} takes {conv_in[1]} input channels (an edit model such as InstructPix2Pix); "
                         "Studio loads text-to-image and 9-channel inpainting models.")
    sdxl = any(key.startswith("conditioner.embedders.1.") for key in shapes)
    return "ldm", _family_from_width(_context_width(shapes), sdxl_marker=sdxl)


def classify_controlnet_file(path: Path, shapes: dict[str, tuple[int, ...]]) -> tuple[str, str | None]:
    """(key layout, family) of a single-file ControlNet; raises `ModelError` if it is not one."""
    if any("input_hint_block." in key for key in shapes):
        layout = "ldm"
        sdxl = any("label_emb." in key for key in shapes)
    elif "controlnet_cond_embedding.conv_in.weight" in shapes:
        layout = "diffusers"
        sdxl = "add_embedding.linear_1.weight" in shapes
    elif any(key.startswith("model.diffusion_model.") for key in shapes):
        raise ModelError(f"{path} is a base model checkpoint, not a ControlNet.")
    else:
        raise ModelError(f"{path} is not a ControlNet checkpoint Studio recognises.")
    return layout, _family_from_width(_context_width(shapes), sdxl_marker=sdxl)


def _check_folder_weights(folder: Path, *, allow_pickle: bool) -> None:
    """Refuse a diffusers folder whose weights exist only as pickle files (unless allowed)."""
    if allow_pickle:
        return
    pickles = [p for p in folder.rglob("*") if p.suffix.lower() in PICKLE_SUFFIXES and p.is_file()
               and CONTROLNETS_DIR not in p.relative_to(folder).parts]
    for file in pickles:
        if not any(file.parent.glob("*.safetensors")):
            raise ModelError(f"Refusing to load {file}: {_PICKLE_HINT}.")


def _resolve_path(source: str, *, role: str) -> tuple[Path, str | None]:
    path = Path(source).expanduser()
    if path.exists():
        return path, None
    if _HUB_ID.fullmatch(source):
        snapshot = resolve_hub_id(source)
        if snapshot is not None:
            return snapshot, source
        raise ModelError(
            f"The {role} model {source!r} is neither a local path nor in the local Hugging Face cache "
            f"({hub_cache_dir()}); Studio works offline, so download it there first."
        )
    raise ModelError(f"The {role} model path {path} does not exist.")


def _config_next_to(file: Path) -> Path | None:
    candidate = file.with_name(file.stem + CONFIG_FOLDER_SUFFIX)
    return candidate if candidate.is_dir() else None


MAX_INDEX_BYTES = 2**20  # a real model_index.json is about 1 KB


def read_model_index(index: Path) -> dict[str, Any]:
    """The object in a diffusers `model_index.json`, read strictly (`studio.safe_json`); ModelError if it is not
    one JSON object whose `_class_name` is text."""
    from studio.safe_json import UntrustedJsonError, load_untrusted_json

    try:
        with open(index, "rb") as handle:
            data = handle.read(MAX_INDEX_BYTES + 1)
        value = load_untrusted_json(data, source=str(index), max_bytes=MAX_INDEX_BYTES)
    except OSError as exc:
        raise ModelError(f"{index} cannot be read ({exc.strerror or exc}).") from exc
    except UntrustedJsonError as exc:
        raise ModelError(f"{exc} It is not a usable {index.name}.") from None
    if not isinstance(value, dict) or not isinstance(value.get("_class_name", ""), str):
        what = "model index" if index.name == "model_index.json" else "config"
        raise ModelError(f"{index} is not a diffusers {what} (it needs an object whose \"_class_name\" "
                         "is text).")
    return value


def locate_base(source: str, *, allow_pickle: bool, config: str | None = None) -> LocatedModel:
    """Find and check a base model: a diffusers folder, a single checkpoint or a cached hub id."""
    path, hub_id = _resolve_path(source, role="base")
    if path.is_dir():
        index = path / "model_index.json"
        if not index.is_file():
            raise ModelError(f"{path} is not a diffusers model folder (no model_index.json).")
        class_name = read_model_index(index).get("_class_name", "")
        if "StableDiffusion" not in class_name:
            raise ModelError(f"{path} holds a {class_name or 'unknown'} model; Studio loads Stable Diffusion 1.x, "
                             "2.x and SDXL models.")
        _check_folder_weights(path, allow_pickle=allow_pickle)
        digest, size = fingerprint(path, skip=CONTROLNETS_DIR)
        family = "sdxl" if "XL" in class_name else None
        return LocatedModel(role="base", source=source, path=path, layout="folder", hub_id=hub_id,
                            fingerprint=digest, size_bytes=size, family=family)
    shapes = read_tensor_shapes(path, allow_pickle=allow_pickle)
    key_layout, family = classify_base_file(path, shapes)
    config_dir = Path(config) if config else _config_next_to(path)
    if config_dir is None:
        from studio.engine.configs import prepare_base_config

        config_dir = prepare_base_config(family, file=path)
    digest, size = fingerprint(path)
    return LocatedModel(role="base", source=source, path=path, layout="file", hub_id=hub_id, fingerprint=digest,
                        size_bytes=size, key_layout=key_layout, family=family, config_dir=config_dir)


def locate_controlnet(kind: str, source: str, *, allow_pickle: bool, base_family: str | None) -> LocatedModel:
    """Find and check a ControlNet: a diffusers folder (config.json + weights), a single file or a hub id."""
    path, hub_id = _resolve_path(source, role=f"{kind} ControlNet")
    if path.is_dir():
        if not (path / "config.json").is_file():
            raise ModelError(f"{path} is not a ControlNet folder (no config.json).")
        _check_folder_weights(path, allow_pickle=allow_pickle)
        from studio.engine.union import folder_union_sizes

        sizes = folder_union_sizes(path, read_model_index(path / "config.json"))
        check_union_family(path, sizes, family=None, base_family=base_family)
        digest, size = fingerprint(path)
        return LocatedModel(role=kind, source=source, path=path, layout="folder", hub_id=hub_id,
                            fingerprint=digest, size_bytes=size, union_sizes=sizes)
    shapes = read_tensor_shapes(path, allow_pickle=allow_pickle)
    key_layout, family = classify_controlnet_file(path, shapes)
    from studio.engine.union import has_union_keys, union_sizes

    sizes = union_sizes(shapes, path=path) if has_union_keys(shapes) else None
    check_union_family(path, sizes, family=family, base_family=base_family)
    config_dir = _config_next_to(path)
    if config_dir is None:
        from studio.engine.configs import shipped_controlnet_config

        config_dir = shipped_controlnet_config(family or base_family, file=path)
    digest, size = fingerprint(path)
    return LocatedModel(role=kind, source=source, path=path, layout="file", hub_id=hub_id, fingerprint=digest,
                        size_bytes=size, key_layout=key_layout, family=family, config_dir=config_dir,
                        union_sizes=sizes)


def check_union_family(path: Path, sizes: dict[str, int] | None, *, family: str | None, base_family: str | None) -> None:
    """Refuse a ControlNet Union model for a base model that is not SDXL (diffusers' union pipelines are SDXL)."""
    other = next((f for f in (family, base_family) if f not in (None, "sdxl")), None)
    if sizes is not None and other is not None:
        raise ModelError(f"{path} is a ControlNet Union model; Studio runs union models with SDXL base models only "
                         f"(diffusers' union pipelines), not with {FAMILY_NAMES[other]}.")


def bundled_controlnets(base: Path) -> dict[str, Path]:
    """ControlNets shipped inside a base folder as `controlnets/<kind>/` or `controlnets/<kind>.safetensors`."""
    from studio.engine.request import CONTROL_KINDS

    found = {}
    for kind in CONTROL_KINDS:
        for candidate in (base / CONTROLNETS_DIR / kind, base / CONTROLNETS_DIR / f"{kind}.safetensors"):
            if candidate.exists():
                found[kind] = candidate
                break
    return found
