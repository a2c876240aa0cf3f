"""Row-level writes shared by the writer thread, the migration and import (callers own the transaction)."""

from __future__ import annotations

import sqlite3
from typing import Any

from studio.history.blobs import Blob, encode_json, pack

CURRENT_BRANCH = "current_branch"
MAIN_BRANCH = "main"


def payload_text(payload: dict[str, Any]) -> str:
    """Canonical JSON text of a payload (sorted keys): equal payloads give equal text."""
    return encode_json(payload).decode()


def insert_blob(conn: sqlite3.Connection, blob: Blob) -> None:
    """Store a blob once; a blob with the same hash already there is kept."""
    codec, stored = pack(blob.data, blob.media)
    conn.execute(
        "INSERT OR IGNORE INTO blobs (hash, media, codec, size, data) VALUES (?, ?, ?, ?, ?)",
        (blob.hash, blob.media, codec, len(blob.data), stored),
    )


def add_revision(conn: sqlite3.Connection, *, parent: int | None, branch: int, time: float,
                 thumbnail: str | None, revision: int | None = None) -> int:
    """Insert a revision (with a given id on import) and return its id."""
    cursor = conn.execute(
        "INSERT INTO revisions (id, parent, branch, time, thumbnail) VALUES (?, ?, ?, ?, ?)",
        (revision, parent, branch, time, thumbnail),
    )
    return int(cursor.lastrowid)


def add_event(conn: sqlite3.Connection, *, time: float, updated: float, kind: str, payload: str, revision: int,
              text: str | None, event: int | None = None) -> int:
    """Insert an event (with a given id on import) and its search text; return its id."""
    cursor = conn.execute(
        "INSERT INTO events (id, time, updated, kind, payload, revision) VALUES (?, ?, ?, ?, ?, ?)",
        (event, time, updated, kind, payload, revision),
    )
    event_id = int(cursor.lastrowid)
    if text:
        conn.execute("INSERT INTO search (rowid, text) VALUES (?, ?)", (event_id, text))
    return event_id


def update_event(conn: sqlite3.Connection, *, event: int, updated: float, payload: str, text: str | None) -> None:
    """Rewrite the newest event's payload (coalescing of typing) and its search text."""
    conn.execute("UPDATE events SET payload = ?, updated = ? WHERE id = ?", (payload, updated, event))
    conn.execute("DELETE FROM search WHERE rowid = ?", (event,))
    if text:
        conn.execute("INSERT INTO search (rowid, text) VALUES (?, ?)", (event, text))


def create_branch(conn: sqlite3.Connection, *, name: str, head: int, forked_from: int | None, time: float,
                  branch: int | None = None) -> int:
    cursor = conn.execute(
        "INSERT INTO branches (id, name, head, forked_from, created) VALUES (?, ?, ?, ?, ?)",
        (branch, name, head, forked_from, time),
    )
    return int(cursor.lastrowid)


def set_head(conn: sqlite3.Connection, branch: int, revision: int) -> None:
    conn.execute("UPDATE branches SET head = ? WHERE id = ?", (revision, branch))


def get_meta(conn: sqlite3.Connection, key: str) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return None if row is None else row[0]


def set_meta(conn: sqlite3.Connection, key: str, value: str) -> None:
    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))
