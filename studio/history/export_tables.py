"""The data tables of a history archive: `results.parquet` (one row per result image, images embedded) and its
dataset card `README.md`. Written into the open archive while the export reads its snapshot."""

from __future__ import annotations

import sqlite3
import time
import zipfile
from collections import Counter
from typing import Any, Iterator

from studio.history.archive import CARD, RESULTS
from studio.history.card import dataset_card
from studio.history.dataset import RESULTS_SCHEMA, result_row, write_table
from studio.history.reads import read_blob
from studio.history.results import ResultImage, pose_keypoints, result_images

_SUMMARY = (
    "Every result image of one ControlNet Studio document, one row each, with the request that made it as typed "
    "columns, the image's own feedback and the implicit signals the later history gives. Load it with "
    '`datasets.load_dataset("parquet", data_files="results.parquet")`: image columns come back as PIL images. '
    "`events.jsonl` holds the full history, `manifest.json` its counts and branches."
)
_NOTES = [
    "Feedback is per image: a verdict, rating or comment counts for an image when it names that image, or when "
    "it was given to a generation of one image. Feedback on a whole batch of several images is in the "
    "`generation_*` columns only.",
    "`used_as_reference`, `refined` and `rerun` are read from later events of the same document: a reference "
    "picture with exactly this image's pixels, generations whose refine image is this image, and generations that "
    "repeat this image's prompt, settings and control maps with its seed. A re-run with a new random seed names "
    "no image and is counted for none.",
    "Saving a result to a PNG file is not recorded in the history, so there is no `saved` signal.",
    "`kept` is the label the scorer learns (studio scorer train).",
]


def _rows(conn: sqlite3.Connection, images: list[ResultImage]) -> Iterator[dict[str, Any]]:
    poses: dict[int, str | None] = {}
    for image in images:
        if image.generation not in poses:
            poses[image.generation] = pose_keypoints(conn, image)
        yield result_row(image, read_blob(conn, image.image_hash), lambda h: read_blob(conn, h),
                         poses[image.generation])


def results_counts(images: list[ResultImage]) -> dict[str, Any]:
    verdicts = Counter(image.verdict for image in images)
    return {
        "images": len(images), "generations": len({image.generation for image in images}),
        "accepted": verdicts["accept"], "rejected": verdicts["reject"],
        "rated": sum(image.rating is not None for image in images),
        "commented": sum(image.comment is not None for image in images),
        "used as reference": sum(image.used_as_reference for image in images),
        "refined": sum(image.refined > 0 for image in images), "re-run": sum(image.rerun > 0 for image in images),
    }


def write_data_tables(conn: sqlite3.Connection, archive: zipfile.ZipFile) -> int:
    """Write results.parquet (stored: Parquet compresses itself) and README.md; returns the number of rows."""
    images = result_images(conn)
    info = zipfile.ZipInfo(RESULTS, date_time=time.localtime()[:6])
    info.compress_type = zipfile.ZIP_STORED
    with archive.open(info, "w", force_zip64=True) as member:
        count = write_table(member, RESULTS_SCHEMA, _rows(conn, images))
    card = dataset_card(title="ControlNet Studio history: result images", summary=_SUMMARY,
                        schema=RESULTS_SCHEMA, counts=results_counts(images), data_files=RESULTS, notes=_NOTES)
    archive.writestr(CARD, card)
    return count

