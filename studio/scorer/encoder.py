"""The local CLIP encoder the scorer embeds images and prompts with (transformers' CLIP classes, CPU or GPU).

`--encoder` names one of:
- a folder with `config.json`: a whole CLIP model (`CLIPModel`, e.g. openai/clip-vit-large-patch14) or a
  vision tower with projection (`CLIPVisionModelWithProjection`, e.g. IP-Adapter's `models/image_encoder`);
  its `preprocessor_config.json` and tokenizer files are used when present;
- a single `.safetensors` file with transformers' CLIP key names (a `config.json` beside it is used; otherwise
  the sizes are read from the tensor shapes, with 64-wide attention heads as in every released CLIP);
- a Hugging Face id in the local cache (`owner/name`, or `owner/name/sub/folder` for a folder inside it).

The embedding of an image is its L2-normalised CLIP image embedding, followed by the L2-normalised text
embedding of its prompt when the encoder has a text tower and a tokenizer (image-only encoders give the image
part alone). Nothing is downloaded: a missing encoder raises `EncoderMissingError`.
"""

from __future__ import annotations

import io
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from studio.scorer.errors import EncoderMissingError, ScorerError

_HEAD_DIM = 64
BATCH = 32


@dataclass(frozen=True)
class EncoderInfo:
    """What a scorer must know to use the same encoder again."""

    source: str
    path: str
    kind: str  # "clip" (image and text) or "vision" (image only)
    dim: int  # embedding size given to the head
    uses_text: bool


def _missing(source: str, why: str) -> EncoderMissingError:
    return EncoderMissingError(
        f"The CLIP encoder {source!r} {why}. The scorer stays off until it has one: give a folder with "
        "config.json, a .safetensors file, or the id of a model in the local Hugging Face cache (for example "
        "openai/clip-vit-large-patch14, or h94/IP-Adapter/models/image_encoder)."
    )


def resolve(source: str) -> Path:
    """The folder or file that `source` names; EncoderMissingError when there is none."""
    path = Path(os.path.expanduser(source))
    if path.exists():
        if path.is_dir() and not (path / "config.json").is_file():
            raise _missing(source, "is a folder without config.json")
        if path.is_file() and path.suffix != ".safetensors":
            raise _missing(source, "is a file but not a .safetensors file")
        return path
    parts = source.strip("/").split("/")
    if len(parts) >= 2 and not source.startswith((".", "/", "~")):
        from studio.engine.sources import hub_cache_dir, resolve_hub_id

        snapshot = resolve_hub_id("/".join(parts[:2]))
        if snapshot is not None:
            folder = snapshot.joinpath(*parts[2:])
            if (folder / "config.json").is_file():
                return folder
            raise _missing(source, f"is in the Hugging Face cache but {folder} has no config.json")
        raise _missing(source, f"is neither a local path nor in the Hugging Face cache ({hub_cache_dir()})")
    raise _missing(source, "does not exist")


def _shapes(file: Path) -> dict[str, tuple[int, ...]]:
    from safetensors import safe_open

    try:
        with safe_open(str(file), framework="pt") as handle:
            return {key: tuple(handle.get_slice(key).get_shape()) for key in handle.keys()}
    except Exception as exc:  # safetensors raises its own error types for damaged files
        raise ScorerError(f"The encoder file {file} is not a readable .safetensors file ({exc}).") from exc


def _tower(shapes: dict[str, tuple[int, ...]], prefix: str) -> dict[str, int]:
    layers = {int(k[len(prefix) + len("encoder.layers."):].split(".")[0]) for k in shapes
              if k.startswith(prefix + "encoder.layers.")}
    hidden = shapes[prefix + "encoder.layers.0.self_attn.q_proj.weight"][0]
    return {"hidden_size": hidden, "num_hidden_layers": len(layers), "num_attention_heads": max(1, hidden // _HEAD_DIM),
            "intermediate_size": shapes[prefix + "encoder.layers.0.mlp.fc1.weight"][0]}


def _config_from_shapes(file: Path) -> tuple[str, dict[str, Any]]:
    """(kind, config dict) of a CLIP state dict with transformers' key names."""
    shapes = _shapes(file)
    if "vision_model.embeddings.patch_embedding.weight" not in shapes or "visual_projection.weight" not in shapes:
        raise ScorerError(f"{file} does not hold a CLIP vision tower with transformers' key names "
                          "(vision_model.*, visual_projection.weight).")
    patch = shapes["vision_model.embeddings.patch_embedding.weight"][2]
    positions = shapes["vision_model.embeddings.position_embedding.weight"][0]
    vision = {**_tower(shapes, "vision_model."), "patch_size": patch,
              "image_size": int(round((positions - 1) ** 0.5)) * patch}
    projection = shapes["visual_projection.weight"][0]
    if "text_model.embeddings.token_embedding.weight" not in shapes:
        return "vision", {**vision, "projection_dim": projection}
    text = {**_tower(shapes, "text_model."), "vocab_size": shapes["text_model.embeddings.token_embedding.weight"][0],
            "max_position_embeddings": shapes["text_model.embeddings.position_embedding.weight"][0]}
    return "clip", {"vision_config": vision, "text_config": text, "projection_dim": projection}


class ClipEncoder:
    """A loaded CLIP encoder: `embed(images, prompts)` gives one row per image."""

    def __init__(self, source: str, *, device: str | None = None) -> None:
        import torch
        from transformers import (CLIPConfig, CLIPImageProcessor, CLIPModel, CLIPVisionConfig,
                                  CLIPVisionModelWithProjection)

        self.source, self.path = source, resolve(source)
        folder = self.path if self.path.is_dir() else self.path.parent
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        try:
            if self.path.is_dir():
                config = json.loads((self.path / "config.json").read_text(encoding="utf-8"))
                kind = "vision" if config.get("model_type") == "clip_vision_model" else "clip"
                if config.get("model_type") not in ("clip", "clip_vision_model"):
                    raise ScorerError(f"{self.path} holds a {config.get('model_type')!r} model, not a CLIP model.")
                cls = CLIPVisionModelWithProjection if kind == "vision" else CLIPModel
                self.model = cls.from_pretrained(str(self.path))
            else:
                beside = folder / "config.json"
                if beside.is_file():
                    config = json.loads(beside.read_text(encoding="utf-8"))
                    kind = "vision" if config.get("model_type") == "clip_vision_model" else "clip"
                    made = (CLIPVisionConfig if kind == "vision" else CLIPConfig).from_dict(config)
                else:
                    kind, plain = _config_from_shapes(self.path)
                    made = CLIPVisionConfig(**plain) if kind == "vision" else CLIPConfig(**plain)
                cls = CLIPVisionModelWithProjection if kind == "vision" else CLIPModel
                self.model = _from_state_dict(cls(made), self.path)
        except (OSError, ValueError, KeyError, RuntimeError, json.JSONDecodeError) as exc:
            raise ScorerError(f"The CLIP encoder {source!r} could not be loaded ({exc}).") from exc
        self.model.to(self.device).eval()
        self.kind = kind
        vision = self.model.config if kind == "vision" else self.model.config.vision_config
        if (folder / "preprocessor_config.json").is_file():
            self.processor = CLIPImageProcessor.from_pretrained(str(folder))
        else:  # CLIP's own resize, crop and normalisation at the model's input size
            size = vision.image_size
            self.processor = CLIPImageProcessor(size={"shortest_edge": size}, crop_size={"height": size, "width": size})
        self.tokenizer = _tokenizer(folder) if kind == "clip" else None
        width = self.model.config.projection_dim
        self.info = EncoderInfo(source, str(self.path), kind, width * (2 if self.tokenizer else 1),
                                self.tokenizer is not None)

    def embed(self, images: Sequence[Any], prompts: Sequence[str] | None = None) -> np.ndarray:
        """float32 [len(images), dim]: images are PIL images, RGB arrays or encoded bytes (PNG...)."""
        import torch

        rows = []
        for start in range(0, len(images), BATCH):
            batch = [_pil(image) for image in images[start:start + BATCH]]
            with torch.inference_mode():
                pixels = self.processor(images=batch, return_tensors="pt")["pixel_values"].to(self.device)
                parts = [self._image_features(pixels)]
                if self.tokenizer is not None:
                    texts = list(prompts[start:start + BATCH]) if prompts is not None else [""] * len(batch)
                    tokens = self.tokenizer(texts, padding=True, truncation=True, return_tensors="pt").to(self.device)
                    text = self.model.text_model(input_ids=tokens["input_ids"],
                                                 attention_mask=tokens["attention_mask"]).pooler_output
                    parts.append(self.model.text_projection(text))
                parts = [torch.nn.functional.normalize(p.float(), dim=-1) for p in parts]
                rows.append(torch.cat(parts, dim=-1).cpu().numpy())
        return np.concatenate(rows) if rows else np.zeros((0, self.info.dim), np.float32)

    def _image_features(self, pixels: Any) -> Any:
        if self.kind == "vision":
            return self.model(pixel_values=pixels).image_embeds
        return self.model.visual_projection(self.model.vision_model(pixel_values=pixels).pooler_output)


def _from_state_dict(model: Any, path: Path) -> Any:
    from safetensors.torch import load_file

    missing, unexpected = model.load_state_dict(load_file(str(path)), strict=False)
    missing = [k for k in missing if not k.endswith("position_ids")]
    if missing or unexpected:
        raise ScorerError(f"{path} does not fit a CLIP model: {len(missing)} weight(s) missing "
                          f"({', '.join(missing[:3])}), {len(unexpected)} unexpected ({', '.join(unexpected[:3])}).")
    return model


def _tokenizer(folder: Path) -> Any:
    from transformers import CLIPTokenizer

    if not (folder / "vocab.json").is_file() or not (folder / "merges.txt").is_file():
        return None
    return CLIPTokenizer.from_pretrained(str(folder))


def _pil(image: Any) -> Any:
    from PIL import Image, UnidentifiedImageError

    if isinstance(image, Image.Image):
        return image.convert("RGB")
    if isinstance(image, np.ndarray):
        return Image.fromarray(np.ascontiguousarray(image)).convert("RGB")
    try:
        with Image.open(io.BytesIO(image)) as opened:
            return opened.convert("RGB")
    except (UnidentifiedImageError, OSError, TypeError) as exc:
        raise ScorerError(f"An image could not be read for the scorer ({exc}).") from exc
