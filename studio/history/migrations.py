"""Schema migrations: an older document is upgraded in place, in one transaction, when it is opened.

Schema 1 (the first release) had no checkpoints, no search index, no thumbnails, no coalescing time, stored
blobs uncompressed and logged prompt edits as `prompt` events {field, text}. Schema 2 adds all of those and logs
every setting, prompts included, as `setting` events {field, value}. A failed migration rolls back and leaves the
file as it was.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Callable

from studio.history import events as ev
from studio.history.blobs import Blob
from studio.history.checkpoints import build_missing_checkpoints, write_root_checkpoint
from studio.history.errors import HistoryError
from studio.history.rows import insert_blob, payload_text
from studio.history.schema import INDEXES, SCHEMA_VERSION, SEARCH_FTS5, SEARCH_PLAIN, TABLES, fts5_available


def _rebuild(conn: sqlite3.Connection, table: str, columns: str, select: str) -> None:
    """Replace `table` by its schema-2 form, filling `columns` from `select` over the old table `_old`."""
    conn.execute(f"ALTER TABLE {table} RENAME TO _old")
    conn.execute(TABLES[table])
    conn.execute(f"INSERT INTO {table} ({columns}) {select}")
    conn.execute("DROP TABLE _old")


def _v1_to_v2(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE blobs RENAME TO _old_blobs")
    conn.execute(TABLES["blobs"])
    for hash_, media, data in conn.execute("SELECT hash, media, data FROM _old_blobs ORDER BY rowid").fetchall():
        blob = Blob.from_bytes(bytes(data), media)
        if blob.hash != hash_:
            raise HistoryError(f"Blob {hash_[:12]} does not match its hash; the document is damaged.")
        insert_blob(conn, blob)
    conn.execute("DROP TABLE _old_blobs")

    # A branch forks from the parent of its first revision.
    _rebuild(conn, "branches", "id, name, head, forked_from, created",
             "SELECT id, name, head, (SELECT r.parent FROM revisions r WHERE r.branch = _old.id "
             "ORDER BY r.id LIMIT 1), created FROM _old")
    _rebuild(conn, "revisions", "id, parent, branch, time, thumbnail",
             "SELECT id, parent, branch, time, NULL FROM _old")
    _rebuild(conn, "events", "id, time, updated, kind, payload, revision",
             "SELECT id, time, time, kind, payload, revision FROM _old")
    for event_id, payload in conn.execute("SELECT id, payload FROM events WHERE kind = 'prompt'").fetchall():
        old = json.loads(payload)
        new = {"field": old["field"], "value": old["text"]}
        conn.execute("UPDATE events SET kind = ?, payload = ? WHERE id = ?", (ev.SETTING, payload_text(new), event_id))
    for ddl in INDEXES.values():
        conn.execute(ddl)

    fts = fts5_available()
    conn.execute(SEARCH_FTS5 if fts else SEARCH_PLAIN)
    conn.execute("INSERT INTO meta (key, value) VALUES ('search', ?)", ("fts5" if fts else "like",))
    for event_id, kind, payload in conn.execute("SELECT id, kind, payload FROM events").fetchall():
        data = json.loads(payload)
        ev.validate_payload(kind, data)
        text = ev.search_text(kind, data)
        if text:
            conn.execute("INSERT INTO search (rowid, text) VALUES (?, ?)", (event_id, text))

    conn.execute(TABLES["checkpoints"])
    for (root,) in conn.execute("SELECT id FROM revisions WHERE parent IS NULL").fetchall():
        write_root_checkpoint(conn, root)
    build_missing_checkpoints(conn)


STEPS: dict[int, Callable[[sqlite3.Connection], None]] = {1: _v1_to_v2}


def migrate(path: Path, version: int) -> None:
    """Upgrade the document at `path` from schema `version` to the current one, atomically."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=30)
    try:
        conn.execute("PRAGMA foreign_keys = OFF")  # tables are rebuilt; checked as a whole before commit
        conn.execute("PRAGMA legacy_alter_table = ON")  # renaming a table must not rewrite references to it
        conn.execute("BEGIN IMMEDIATE")
        try:
            for step in range(version, SCHEMA_VERSION):
                STEPS[step](conn)
            problems = conn.execute("PRAGMA foreign_key_check").fetchall()
            if problems:
                raise HistoryError(f"{path} has broken references ({problems[0]}); it was not upgraded.")
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException as exc:
            conn.execute("ROLLBACK")
            if isinstance(exc, (KeyError, TypeError, ValueError, sqlite3.DatabaseError)):
                raise HistoryError(f"{path} could not be upgraded from history schema {version} ({exc}).") from exc
            raise
    finally:
        conn.close()
