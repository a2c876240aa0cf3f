"""The history archive format shared by export and import (a zip file).

    manifest.json        format, schema version, export time, counts, branches, current branch
    events.jsonl         every event in log order: id, time, updated, kind, payload, revision, parent, branch,
                         thumbnail (one JSON object per line)
    blobs/<sha256>.png   images: rasters, stroke patches, control images, results, thumbnails
    blobs/<sha256>.json  JSON blobs: poses
    results.parquet      one row per result image, images embedded (a Hugging Face `datasets` table)
    README.md            the dataset card of results.parquet
    generations.parquet  (archives of the first exports only) one row per generation; import ignores it
"""

from __future__ import annotations

import re

from studio.history.blobs import EXTENSIONS

FORMAT = "controlnet-studio-history"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
EVENTS = "events.jsonl"
GENERATIONS = "generations.parquet"  # first exports; still accepted by import
RESULTS = "results.parquet"
CARD = "README.md"
DATA_MEMBERS = (GENERATIONS, RESULTS, CARD)  # derived tables: import accepts and ignores them
BLOB_DIR = "blobs"

_MEDIA_BY_EXTENSION = {ext: media for media, ext in EXTENSIONS.items()}
_BLOB_NAME = re.compile(r"blobs/([0-9a-f]{64})(\.png|\.json)")


def blob_path(hash_: str, media: str) -> str:
    """Archive path of a blob."""
    return f"{BLOB_DIR}/{hash_}{EXTENSIONS[media]}"


def parse_blob_path(name: str) -> tuple[str, str] | None:
    """(hash, media) of an archive member that is a blob, or None."""
    match = _BLOB_NAME.fullmatch(name)
    if match is None:
        return None
    return match.group(1), _MEDIA_BY_EXTENSION[match.group(2)]
