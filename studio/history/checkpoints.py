"""Checkpoints: the full document state stored at some revisions, so any state is rebuilt quickly.

Why keyframes and not a full state per revision: a stroke event then costs one small patch blob (about 0.1 ms
to encode) instead of re-encoding whole layers (several ms for a 512x512 layer, more for larger ones), which
keeps the writer's acknowledgement time low; and reading any revision costs decoding one checkpoint plus
replaying at most `CHECKPOINT_INTERVAL` events (tens of ms). Checkpoints are derived data: the writer schedules
one when a revision is `CHECKPOINT_INTERVAL` events away from the last one on its path (encoded in a helper
thread, then written by the writer thread); import and migration rebuild them.
"""

from __future__ import annotations

import json
import sqlite3

from studio.history.blobs import Blob
from studio.history.errors import HistoryError
from studio.history.reads import DbBlobSource
from studio.history.rows import insert_blob, payload_text
from studio.history.schema import CHECKPOINT_INTERVAL
from studio.history.state import BlobSource, DocumentState, apply_event, state_from_json

EMPTY_STATE = {"width": None, "height": None, "settings": {}, "layers": []}

# The revisions from `?` back to the nearest one with a checkpoint (included), deepest first.
_CHAIN_SQL = """
WITH RECURSIVE chain(rev, parent, depth) AS (
    SELECT id, parent, 0 FROM revisions WHERE id = ?
    UNION ALL
    SELECT r.id, r.parent, c.depth + 1 FROM chain c JOIN revisions r ON r.id = c.parent
    WHERE NOT EXISTS (SELECT 1 FROM checkpoints k WHERE k.revision = c.rev)
)
SELECT c.rev, k.state, e.kind, e.payload FROM chain c
LEFT JOIN checkpoints k ON k.revision = c.rev LEFT JOIN events e ON e.revision = c.rev
ORDER BY c.depth DESC
"""


def state_at(conn: sqlite3.Connection, revision: int, *, blobs: BlobSource | None = None) -> tuple[DocumentState, int]:
    """The document state at `revision` and how many events were replayed to build it."""
    rows = conn.execute(_CHAIN_SQL, (revision,)).fetchall()
    if not rows:
        raise HistoryError(f"Revision {revision} does not exist in this document.")
    blobs = blobs or DbBlobSource(conn)
    base_revision, checkpoint = rows[0][0], rows[0][1]
    if checkpoint is None:
        raise HistoryError(f"Revision {base_revision} has no parent and no checkpoint; the document is damaged.")
    state = state_from_json(base_revision, json.loads(checkpoint), blobs)
    for rev, _, kind, payload in rows[1:]:
        if kind is None:
            raise HistoryError(f"Revision {rev} has no event; the document is damaged.")
        apply_event(state, revision=rev, kind=kind, payload=json.loads(payload), blobs=blobs)
    return state, len(rows) - 1


def encode_checkpoint(state: DocumentState) -> tuple[str, list[Blob]]:
    """(checkpoint JSON, new blobs) of `state`: layer content changed since it was loaded is encoded (PNG or
    JSON) and gets its hash. Pure CPU work that holds no connection: the writer runs it in a helper thread."""
    blobs = []
    for layer in state.layers.values():
        if layer.content is not None and layer.content_hash is None:
            blob = Blob.from_array(layer.content) if hasattr(layer.content, "shape") else Blob.from_json(layer.content)
            blobs.append(blob)
            layer.content_hash = blob.hash
    return payload_text(state.to_json()), blobs


def insert_checkpoint(conn: sqlite3.Connection, revision: int, state: str, blobs: list[Blob]) -> None:
    for blob in blobs:
        insert_blob(conn, blob)
    conn.execute("INSERT OR REPLACE INTO checkpoints (revision, state) VALUES (?, ?)", (revision, state))


def write_checkpoint(conn: sqlite3.Connection, state: DocumentState) -> None:
    """Store `state` as the checkpoint of its revision, saving changed layer content as blobs first."""
    text, blobs = encode_checkpoint(state)
    insert_checkpoint(conn, state.revision, text, blobs)


def write_root_checkpoint(conn: sqlite3.Connection, revision: int) -> None:
    conn.execute("INSERT INTO checkpoints (revision, state) VALUES (?, ?)", (revision, payload_text(EMPTY_STATE)))


def build_missing_checkpoints(conn: sqlite3.Connection, *, interval: int = CHECKPOINT_INTERVAL) -> int:
    """Add checkpoints so that no revision is `interval` or more events from one; returns how many were added."""
    distance: dict[int, int] = {}
    added = 0
    rows = conn.execute(
        "SELECT r.id, r.parent, k.revision IS NOT NULL FROM revisions r "
        "LEFT JOIN checkpoints k ON k.revision = r.id ORDER BY r.id"
    ).fetchall()
    for revision, parent, has_checkpoint in rows:
        if has_checkpoint:
            distance[revision] = 0
            continue
        if parent not in distance:
            raise HistoryError(f"Revision {revision} has no earlier parent; the history is damaged.")
        distance[revision] = distance[parent] + 1
        if distance[revision] >= interval:
            state, _ = state_at(conn, revision)
            write_checkpoint(conn, state)
            distance[revision] = 0
            added += 1
    return added
