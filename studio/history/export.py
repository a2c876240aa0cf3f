"""Export a document's history as a zip archive (see `archive` for the layout).

The archive holds every event and every blob that events and thumbnails name; checkpoints are derived data and
are rebuilt by import. PNG blobs are stored as they are (already compressed), the rest deflated. The export reads
one consistent snapshot (the studio may keep writing meanwhile) and writes the archive next to its target,
moving it into place when complete.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import zipfile
from dataclasses import dataclass
from typing import Callable
from datetime import datetime, timezone
from pathlib import Path

import studio
from studio.history import events as ev
from studio.history.archive import EVENTS, FORMAT, FORMAT_VERSION, MANIFEST, blob_path
from studio.history.blobs import PNG
from studio.history.export_tables import write_data_tables
from studio.history.errors import HistoryError
from studio.history.background import fold_wal
from studio.history.files import remove_leftovers, replace, temp_path
from studio.history.reads import Event, blob_media, list_branches, list_events, list_generations, read_blob
from studio.history.rows import get_meta
from studio.history.schema import SCHEMA_VERSION
from studio.history.store import HistoryStore


Progress = Callable[[int, int], None]  # (done, total)


@dataclass(frozen=True)
class ExportSummary:
    path: Path
    events: int
    blobs: int
    generations: int
    images: int
    bytes_written: int
    seconds: float


def _event_line(event: Event, thumbnail: str | None) -> str:
    record = {
        "id": event.id, "time": event.time, "updated": event.updated, "kind": event.kind, "payload": event.payload,
        "revision": event.revision, "parent": event.parent, "branch": event.branch, "thumbnail": thumbnail,
    }
    return json.dumps(record, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _write_archive(conn: sqlite3.Connection, target: Path,
                   progress: Progress | None = None) -> tuple[int, int, int, int]:
    """Write the archive of the history behind `conn`; returns (events, blobs, generations, result images).
    `progress(done, total)` follows the blobs written (the bulk of the work), then the tables."""
    events = list_events(conn)
    thumbnails = dict(conn.execute("SELECT id, thumbnail FROM revisions"))
    branches = list_branches(conn)
    generations = list_generations(conn)
    hashes = set(filter(None, thumbnails.values()))
    for event in events:
        hashes.update(ev.blob_refs(event.kind, event.payload))
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        lines = [_event_line(event, thumbnails.get(event.revision)) for event in events]
        archive.writestr(EVENTS, "\n".join(lines) + "\n")
        total = len(hashes) + 1  # the per-image tables count as one last step
        for done, hash_ in enumerate(sorted(hashes)):
            if progress is not None:
                progress(done, total)
            media = blob_media(conn, hash_)
            compression = zipfile.ZIP_STORED if media == PNG else zipfile.ZIP_DEFLATED
            archive.writestr(blob_path(hash_, media), read_blob(conn, hash_), compress_type=compression)
        images = write_data_tables(conn, archive)
        if progress is not None:
            progress(total, total)
        manifest = {
            "format": FORMAT, "format_version": FORMAT_VERSION, "schema_version": SCHEMA_VERSION,
            "studio_version": studio.__version__,
            "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "created": float(get_meta(conn, "created") or 0.0),
            "counts": {"events": len(events), "revisions": len(thumbnails), "blobs": len(hashes),
                       "generations": len(generations), "branches": len(branches),
                       "results": images},
            "branches": [{"name": b.name, "head": b.head, "forked_from": b.forked_from, "created": b.created}
                         for b in branches],
            "current_branch": next(b.name for b in branches if b.current),
        }
        archive.writestr(MANIFEST, json.dumps(manifest, indent=2, sort_keys=True))
    return len(events), len(hashes), len(generations), images


def export_history(document: str | os.PathLike, out: str | os.PathLike, *,
                   progress: Progress | None = None) -> ExportSummary:
    """Write the history of `document` to the zip archive `out` (replaced if it exists); `progress(done, total)`
    is called as the archive is written (any thread: the caller's)."""
    started = time.perf_counter()
    out = Path(out)
    if not out.parent.is_dir():
        raise HistoryError(f"The folder {out.parent} does not exist.")
    remove_leftovers(out.parent)
    temp = temp_path(out)
    try:
        with HistoryStore.open(document, readonly=True) as store, store.read_transaction() as conn:
            counts = _write_archive(conn, temp, progress)
        replace(temp, out)
        fold_wal(Path(document))  # an export is a natural pause: fold what the window wrote meanwhile
    finally:
        temp.unlink(missing_ok=True)
    return ExportSummary(out, *counts, bytes_written=out.stat().st_size, seconds=time.perf_counter() - started)
