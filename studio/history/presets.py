"""Training sets made from the history of one or more documents, each a folder that `datasets` loads
(`datasets.load_dataset(DIR)`): `data/train-00000-of-00001.parquet` and a card `README.md` naming it.

- `controlnet`: what diffusers' `examples/controlnet/train_controlnet.py` reads: `image` (the result),
  `text` (its prompt) and `conditioning_image` (the control map of one kind), in that order, which is the order the
  script takes when no column flags are given. Only images the designer liked: rated `min_rating` stars or more
  when rated, else accepted; never a rejected one.
- `preference`: the columns of Pick-a-Pic v2 (`caption`, `jpg_0`, `jpg_1`, `label_0`, `label_1`, with
  `best_image_uid`, `image_0_uid`, `image_1_uid`, `has_label`, `are_different`): one row per pair of images of one
  request where the designer preferred one (see `studio.history.pairs`). As in Pick-a-Pic, `jpg_*` hold encoded
  image bytes (PNG here) and labels are 1.0/0.0. The image with the smaller sha256 comes first, so the preferred
  one is not always image 0.

The folder is built next to its target and moved into place when complete; an existing non-empty folder is
refused, never overwritten.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from studio.history.card import dataset_card
from studio.history.dataset import IMAGE, hf_schema, image_cell, write_table
from studio.history.errors import HistoryError
from studio.history.pairs import preference_pairs
from studio.history.reads import read_blob
from studio.history.results import CONTROL_KINDS, ResultImage, result_images
from studio.history.store import HistoryStore

FORMATS = ("controlnet", "preference")
DEFAULT_MIN_RATING = 4
DATA_FILE = "data/train-00000-of-00001.parquet"
CONTROLNET_SCHEMA = hf_schema([("image", IMAGE), ("text", "string"), ("conditioning_image", IMAGE)])
PREFERENCE_SCHEMA = hf_schema([
    ("caption", "string"), ("jpg_0", "binary"), ("jpg_1", "binary"), ("label_0", "float64"), ("label_1", "float64"),
    ("best_image_uid", "string"), ("image_0_uid", "string"), ("image_1_uid", "string"), ("has_label", "bool"),
    ("are_different", "bool"), ("document", "string"),
])


@dataclass(frozen=True)
class PresetSummary:
    path: Path
    rows: int
    documents: int
    images: int  # result images read


def liked(image: ResultImage, min_rating: int = DEFAULT_MIN_RATING) -> bool:
    """The controlnet preset's choice: rated `min_rating` or more when rated, else accepted; never rejected."""
    if image.verdict == "reject":
        return False
    if image.rating is not None:
        return image.rating >= min_rating
    return image.verdict == "accept"


class _Reader:
    """Opens the documents one at a time and counts what was read."""

    def __init__(self, documents: Iterable[str | os.PathLike],
                 progress: Callable[[int, int], None] | None = None) -> None:
        self.documents = [Path(d) for d in documents]
        if not self.documents:
            raise HistoryError("Name at least one document to export.")
        self.images = 0
        self.progress = progress  # (documents done, documents); with one document: (images done, images)

    def each(self) -> Iterator[tuple[Path, Any, list[ResultImage]]]:
        for index, document in enumerate(self.documents):
            with HistoryStore.open(document, readonly=True) as store, store.read_transaction() as conn:
                images = result_images(conn)
                self.images += len(images)
                yield document, conn, images
            self.tick(index + 1, len(self.documents))

    def tick(self, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(done, total)

    def per_image(self, images: list[ResultImage]) -> Iterator[tuple[int, ResultImage]]:
        """`images` with progress by image when there is one document only (else by document)."""
        single = len(self.documents) == 1
        for done, image in enumerate(images):
            if single:
                self.tick(done, len(images) + 1)
            yield done, image


def _controlnet_rows(reader: _Reader, kind: str, min_rating: int) -> Iterator[dict[str, Any]]:
    for _, conn, images in reader.each():
        for _, image in reader.per_image(images):
            control = image.control(kind)
            if control is None or not control.get("image") or not liked(image, min_rating):
                continue
            yield {"image": image_cell(read_blob(conn, image.image_hash)), "text": image.prompt,
                   "conditioning_image": image_cell(read_blob(conn, control["image"]))}


def _preference_rows(reader: _Reader) -> Iterator[dict[str, Any]]:
    for document, conn, images in reader.each():
        for pair in preference_pairs(images):
            first, second = sorted((pair.better, pair.worse), key=lambda image: image.image_hash)
            label = 1.0 if first is pair.better else 0.0
            yield {"caption": first.prompt, "jpg_0": read_blob(conn, first.image_hash),
                   "jpg_1": read_blob(conn, second.image_hash), "label_0": label, "label_1": 1.0 - label,
                   "best_image_uid": pair.better.image_hash, "image_0_uid": first.image_hash,
                   "image_1_uid": second.image_hash, "has_label": True, "are_different": True,
                   "document": document.name}


def export_preset(documents: Iterable[str | os.PathLike], out: str | os.PathLike, *, format: str,
                  kind: str | None = None, min_rating: int | None = None,
                  progress: Callable[[int, int], None] | None = None) -> PresetSummary:
    """Write the training set `format` of `documents` into the new folder `out`; `progress(done, total)` is
    called as documents (one document: its images) are read."""
    out = Path(out)
    if format not in FORMATS:
        raise HistoryError(f"Unknown export format {format!r}; use one of: {', '.join(FORMATS)}.")
    if format == "controlnet" and kind not in CONTROL_KINDS:
        raise HistoryError(f"The controlnet format needs --kind {'|'.join(CONTROL_KINDS)}.")
    if format != "controlnet" and (kind is not None or min_rating is not None):
        raise HistoryError("--kind and --min-rating apply to the controlnet format only.")
    min_rating = DEFAULT_MIN_RATING if min_rating is None else min_rating
    if not 1 <= min_rating <= 5:
        raise HistoryError(f"--min-rating must be 1 to 5 stars, got {min_rating}.")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise HistoryError(f"{out} already exists and is not an empty folder; choose a new one.")
    if not out.parent.is_dir():
        raise HistoryError(f"The folder {out.parent} does not exist.")
    reader = _Reader(documents, progress)
    temp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    shutil.rmtree(temp, ignore_errors=True)
    try:
        (temp / "data").mkdir(parents=True)
        if format == "controlnet":
            schema, rows = CONTROLNET_SCHEMA, _controlnet_rows(reader, kind, min_rating)
        else:
            schema, rows = PREFERENCE_SCHEMA, _preference_rows(reader)
        count = write_table(str(temp / DATA_FILE), schema, rows)
        (temp / "README.md").write_text(_card(format, kind, min_rating, schema, count, reader), encoding="utf-8")
        if out.exists():
            out.rmdir()
        os.replace(temp, out)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
    return PresetSummary(out, count, len(reader.documents), reader.images)


def _card(format: str, kind: str | None, min_rating: int, schema: Any, rows: int, reader: _Reader) -> str:
    counts = {"rows": rows, "documents": len(reader.documents), "result images read": reader.images}
    sources = ", ".join(d.name for d in reader.documents)
    if format == "controlnet":
        title = f"ControlNet training set ({kind})"
        summary = (f"Result images the designer liked with their prompt and {kind} control map, from {sources}: "
                   f"rated {min_rating} stars or more when rated, else accepted; never a rejected image. "
                   "For diffusers' `examples/controlnet/train_controlnet.py --train_data_dir THIS_FOLDER` "
                   "(columns image, text, conditioning_image: the order it takes by default).")
    else:
        title = "Preference pairs (Pick-a-Pic v2 columns)"
        summary = (f"Pairs of images of one request (same prompt, settings and control maps) where the designer "
                   f"preferred one, from {sources}: accepted over rejected, else more stars over fewer. "
                   "`jpg_0`/`jpg_1` hold PNG bytes, `label_0` is 1.0 when image 0 was preferred.")
    return dataset_card(title=title, summary=summary, schema=schema, counts=counts, data_files="data/train-*")
