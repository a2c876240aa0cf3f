"""Consistency check of a document (`studio history check`): SQLite integrity, blob hashes, event payloads,
references between revisions, branches, blobs and checkpoints, and a replay of every branch head."""

from __future__ import annotations

import json
import os
import sqlite3

from studio.history import events as ev
from studio.history.blobs import sha256_hex, unpack
from studio.history.checkpoints import state_at
from studio.history.errors import HistoryError
from studio.history.rows import CURRENT_BRANCH, get_meta
from studio.history.store import HistoryStore

MAX_PROBLEMS = 20  # stop listing after this many


def _blob_problems(conn: sqlite3.Connection) -> list[str]:
    problems = []
    for hash_, codec, size, data in conn.execute("SELECT hash, codec, size, data FROM blobs"):
        try:
            raw = unpack(codec, data)
        except HistoryError as exc:
            problems.append(f"blob {hash_[:12]}: {exc}")
            continue
        if sha256_hex(raw) != hash_ or len(raw) != size:
            problems.append(f"blob {hash_[:12]} does not match its hash or size")
    return problems


def _event_problems(conn: sqlite3.Connection) -> list[str]:
    problems = []
    stored = {row[0] for row in conn.execute("SELECT hash FROM blobs")}
    for event_id, kind, payload in conn.execute("SELECT id, kind, payload FROM events ORDER BY id"):
        try:
            data = json.loads(payload)
            ev.validate_payload(kind, data)
        except (ValueError, HistoryError) as exc:
            problems.append(f"event {event_id}: {exc}")
            continue
        missing = [h for h in ev.blob_refs(kind, data) if h not in stored]
        if missing:
            problems.append(f"event {event_id} names the missing blob {missing[0][:12]}")
    for (revision,) in conn.execute(
        "SELECT r.id FROM revisions r LEFT JOIN events e ON e.revision = r.id WHERE e.id IS NULL"
    ):
        problems.append(f"revision {revision} has no event")
    roots = conn.execute("SELECT COUNT(*) FROM revisions WHERE parent IS NULL").fetchone()[0]
    if roots != 1:
        problems.append(f"the history has {roots} first revisions instead of 1")
    for (revision,) in conn.execute("SELECT id FROM revisions WHERE parent >= id"):
        problems.append(f"revision {revision} has a parent that is not older")
    return problems


def _state_problems(conn: sqlite3.Connection) -> list[str]:
    problems = []
    current = get_meta(conn, CURRENT_BRANCH)
    branches = conn.execute("SELECT id, name, head FROM branches").fetchall()
    if current not in {str(b[0]) for b in branches}:
        problems.append("the current branch does not exist")
    for _, name, head in branches:
        try:
            state_at(conn, head)
        except HistoryError as exc:
            problems.append(f"branch {name!r} cannot be rebuilt: {exc}")
    return problems


def check_document(path: str | os.PathLike) -> list[str]:
    """Problems found in the document (empty when it is sound). Raises StudioError if it cannot be opened."""
    with HistoryStore.open(path, readonly=True) as store, store.read_transaction() as conn:
        problems = [f"sqlite: {row[0]}" for row in conn.execute("PRAGMA integrity_check") if row[0] != "ok"]
        if problems:
            return problems[:MAX_PROBLEMS]
        problems += [f"broken reference in {row[0]}, row {row[1]}" for row in conn.execute("PRAGMA foreign_key_check")]
        problems += _blob_problems(conn)
        problems += _event_problems(conn)
        if not problems:
            problems += _state_problems(conn)
    return problems[:MAX_PROBLEMS]
