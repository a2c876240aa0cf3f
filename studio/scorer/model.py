"""A trained scorer folder: `head.safetensors` (the head's weights and input standardisation) and
`scorer.json` (the encoder it needs, what it was trained on, its cross-validated figures).

`Scorer.load(folder)` checks the folder; the encoder is loaded on first use (`encoder=` gives one already
loaded, or another source of the same CLIP model). `keep_probability(images, prompts)` gives, per image, the
probability that the designer keeps it.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from studio.scorer.encoder import ClipEncoder, EncoderInfo
from studio.scorer.errors import ScorerError
from studio.scorer.head import ScoreHead

FORMAT = "controlnet-studio-scorer"
VERSION = 1
HEAD = "head.safetensors"
META = "scorer.json"


def save(folder: Path, head: ScoreHead, info: EncoderInfo, extra: dict[str, Any]) -> str:
    """Write the scorer folder (replacing its two files); returns the scorer's id (digest of its weights)."""
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().contiguous() for k, v in head.state_dict().items()}
    temp = folder / f".{HEAD}.{os.getpid()}.tmp"
    save_file(tensors, str(temp))
    scorer_id = hashlib.sha256(temp.read_bytes()).hexdigest()[:16]
    os.replace(temp, folder / HEAD)
    meta = {"format": FORMAT, "version": VERSION, "id": scorer_id, "encoder": asdict(info), **extra}
    (folder / META).write_text(json.dumps(meta, indent=2, sort_keys=True), encoding="utf-8")
    return scorer_id


class Scorer:
    def __init__(self, folder: Path, meta: dict[str, Any], head: ScoreHead, encoder: ClipEncoder | None) -> None:
        self.folder, self.meta, self.head, self._encoder = folder, meta, head, encoder

    @property
    def id(self) -> str:
        return self.meta["id"]

    @classmethod
    def load(cls, folder: str | os.PathLike, *, encoder: ClipEncoder | str | None = None) -> Scorer:
        folder = Path(folder)
        if not (folder / META).is_file() or not (folder / HEAD).is_file():
            raise ScorerError(f"{folder} is not a scorer folder (it needs {META} and {HEAD}; make one with "
                              "`studio scorer train`).")
        try:
            meta = json.loads((folder / META).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ScorerError(f"{folder / META} cannot be read ({exc}).") from exc
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ScorerError(f"{folder / META} is not a ControlNet Studio scorer.")
        if meta.get("version") != VERSION:
            raise ScorerError(f"The scorer in {folder} has version {meta.get('version')!r}; this studio reads "
                              f"version {VERSION}. Train it again.")
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        try:
            state = load_file(str(folder / HEAD))
            head = ScoreHead(int(meta["encoder"]["dim"]))
            head.load_state_dict(state)
        except (SafetensorError, OSError, KeyError, RuntimeError, TypeError, ValueError) as exc:
            raise ScorerError(f"The scorer weights in {folder} are damaged ({exc}); train it again.") from exc
        if isinstance(encoder, str):
            encoder = ClipEncoder(encoder)
        scorer = cls(folder, meta, head.eval(), encoder)
        if encoder is not None:
            scorer._check(encoder)
        return scorer

    def _check(self, encoder: ClipEncoder) -> None:
        if encoder.info.dim != self.head.dim or encoder.info.uses_text != self.meta["encoder"]["uses_text"]:
            raise ScorerError(f"The encoder {encoder.source!r} gives {encoder.info.dim}-wide embeddings, but this "
                              f"scorer was trained on {self.head.dim}-wide ones from "
                              f"{self.meta['encoder']['source']!r}; use that encoder.")

    @property
    def encoder(self) -> ClipEncoder:
        """The CLIP encoder (loaded on first use; EncoderMissingError when it is not on this machine)."""
        if self._encoder is None:
            encoder = ClipEncoder(self.meta["encoder"]["source"])
            self._check(encoder)
            self._encoder = encoder
        return self._encoder

    def scores(self, features: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            return self.head(torch.from_numpy(np.asarray(features, np.float32))).numpy()

    def keep_probability(self, images: Sequence[Any], prompts: Sequence[str]) -> np.ndarray:
        """P(keep) per image (PIL images, RGB arrays or PNG bytes) with its prompt."""
        if len(images) != len(prompts):
            raise ScorerError(f"{len(images)} images but {len(prompts)} prompts.")
        return keep_probabilities(self.scores(self.encoder.embed(images, prompts)))


def keep_probabilities(scores: np.ndarray) -> np.ndarray:
    """The head's scores as keep probabilities (the logistic function)."""
    return 1.0 / (1.0 + np.exp(-np.asarray(scores, np.float64)))
