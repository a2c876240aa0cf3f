"""Reading a training export: the folder `studio history export --format controlnet` writes (what `datasets`
loads and diffusers' `train_controlnet.py` reads): `data/*.parquet` with the columns `image` (the result the
designer liked), `text` (its prompt) and `conditioning_image` (its control map), Image columns being structs of
encoded `bytes` and a `path`.

The folder is read with pyarrow (no `datasets` needed at run time). Every image is decoded once up front, so a
corrupt row fails before any training with a message naming it. The data hash (sha256 over the parquet files'
bytes, in name order) is what a training run records, so a model can be traced back to the rows it learned from.
The last `held_out` rows are kept out of training and used for validation images. A row that repeats an earlier
one (same image bytes and prompt, and for a ControlNet the same map) is read once: a LoRA set made of several
exports (one per control kind) holds a result once per map it had.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from studio.train.errors import TrainError

COLUMNS = ("image", "text", "conditioning_image")
MAX_ROWS = 100_000


@dataclass(frozen=True)
class Row:
    """One training pair: the liked image, its prompt and its control map (None when the set has none)."""

    image: Image.Image
    text: str
    conditioning: Image.Image | None


@dataclass(frozen=True)
class TrainingSet:
    path: Path
    hash: str
    train: list[Row]
    held_out: list[Row]

    @property
    def rows(self) -> int:
        return len(self.train) + len(self.held_out)

    def describe(self) -> dict[str, Any]:
        """Plain data for the history: where, which bytes, how many rows."""
        return {"path": str(self.path), "hash": self.hash, "rows": self.rows, "train_rows": len(self.train),
                "held_out_rows": len(self.held_out)}


def _parquet_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise TrainError(f"The training data {folder} is not a folder; make one with "
                         "`studio history export DOC --format controlnet --kind KIND --out DIR`.")
    files = sorted((folder / "data").glob("*.parquet")) or sorted(folder.glob("*.parquet"))
    if not files:
        raise TrainError(f"{folder} holds no parquet files (data/*.parquet); it is not a training export.")
    return files


def _decode(cell: Any, *, what: str) -> Image.Image:
    data = cell.get("bytes") if isinstance(cell, dict) else None
    if not data:
        raise TrainError(f"{what} has no image bytes.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            return image.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise TrainError(f"{what} is not a readable image ({exc}).") from exc


def _row_key(columns: dict[str, list], index: int, text: str | None, need_conditioning: bool) -> tuple[str, ...]:
    def digest(cell: Any) -> str:
        data = cell.get("bytes") if isinstance(cell, dict) else None
        return hashlib.sha1(data).hexdigest() if isinstance(data, bytes) else f"row-{index}-{id(cell)}"

    key = (digest(columns["image"][index]), text or "")
    if need_conditioning:
        key += (digest(columns["conditioning_image"][index]),)
    return key


def load_training_set(folder: str | Path, *, need_conditioning: bool, held_out: int | None = None) -> TrainingSet:
    """Read and check the export in `folder`. `held_out` rows (default: one in ten, at least one when there are
    two rows or more, none for a single row) are kept for validation."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    folder = Path(folder)
    digest = hashlib.sha256()
    rows: list[Row] = []
    seen: set[tuple[str, ...]] = set()
    for file in _parquet_files(folder):
        digest.update(file.name.encode() + b"\0")
        try:
            digest.update(file.read_bytes())
            table = pq.read_table(file)
        except (OSError, pa.ArrowException) as exc:
            raise TrainError(f"{file} is not a readable parquet file ({exc}).") from exc
        wanted = COLUMNS if need_conditioning else COLUMNS[:2]
        missing = [name for name in wanted if name not in table.column_names]
        if missing:
            raise TrainError(f"{file} lacks the column(s) {', '.join(missing)}; a training export has "
                             f"{', '.join(COLUMNS)}.")
        if len(rows) + table.num_rows > MAX_ROWS:
            raise TrainError(f"{folder} has more than {MAX_ROWS} rows; split it into smaller sets.")
        columns = {name: table.column(name).to_pylist() for name in COLUMNS if name in table.column_names}
        for index in range(table.num_rows):
            what = f"Row {index} of {file.name}"
            text = columns["text"][index]
            if text is not None and not isinstance(text, str):
                raise TrainError(f"{what} has a prompt that is not text.")
            key = _row_key(columns, index, text, need_conditioning)
            if key in seen:
                continue  # the same result exported twice (e.g. with its edge and its pose map, for a LoRA)
            seen.add(key)
            conditioning = None
            if need_conditioning:
                conditioning = _decode(columns["conditioning_image"][index], what=f"{what} (conditioning_image)")
            rows.append(Row(_decode(columns["image"][index], what=f"{what} (image)"), text or "", conditioning))
    if not rows:
        raise TrainError(f"{folder} has no rows: the documents had no liked results of that kind yet.")
    if held_out is None:
        held_out = 0 if len(rows) < 2 else max(1, len(rows) // 10)
    if not 0 <= held_out < len(rows):
        raise TrainError(f"Cannot hold out {held_out} of {len(rows)} rows for validation; at least one row must "
                         "remain for training.")
    split = len(rows) - held_out
    return TrainingSet(path=folder, hash=digest.hexdigest(), train=rows[:split], held_out=rows[split:])


def to_pixels(image: Image.Image, resolution: int, *, signed: bool) -> Any:
    """`image` resized (shorter side to `resolution`) and centre-cropped to a square, as a CxHxW float tensor in
    [-1, 1] (`signed`, the VAE's input) or [0, 1] (a ControlNet's conditioning input)."""
    import numpy as np
    import torch

    width, height = image.size
    scale = resolution / min(width, height)
    resized = image.resize((max(resolution, round(width * scale)), max(resolution, round(height * scale))),
                           Image.Resampling.BICUBIC)
    left = (resized.width - resolution) // 2
    top = (resized.height - resolution) // 2
    cropped = resized.crop((left, top, left + resolution, top + resolution))
    array = torch.from_numpy(np.asarray(cropped, dtype=np.float32) / 255.0).permute(2, 0, 1)
    return array * 2.0 - 1.0 if signed else array


class PairDataset:
    """A torch-style dataset of preprocessed rows: {"pixels", "text", "conditioning"?}."""

    def __init__(self, rows: list[Row], resolution: int) -> None:
        self.rows = rows
        self.resolution = resolution

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, index: int) -> dict[str, Any]:
        row = self.rows[index]
        item = {"pixels": to_pixels(row.image, self.resolution, signed=True), "text": row.text}
        if row.conditioning is not None:
            item["conditioning"] = to_pixels(row.conditioning, self.resolution, signed=False)
        return item


def collate(items: list[dict[str, Any]]) -> dict[str, Any]:
    import torch

    batch = {"pixels": torch.stack([item["pixels"] for item in items]), "text": [item["text"] for item in items]}
    if "conditioning" in items[0]:
        batch["conditioning"] = torch.stack([item["conditioning"] for item in items])
    return batch
