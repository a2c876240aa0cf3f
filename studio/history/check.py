"""Consistency check of a document (`studio history check`): SQLite integrity, blob hashes, event payloads,
references between revisions, branches, blobs and checkpoints, and a replay of every branch head.

`check_document` never raises for a damaged or foreign file: what it cannot read is itself a problem
(integrity_check lines naming unreadable pages, a missing table, an unreadable header), and the command exits
non-zero. `studio history salvage` then copies out every event that still reads (see `salvage`)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from studio.history import events as ev
from studio.history.blobs import sha256_hex, unpack
from studio.history.checkpoints import state_at
from studio.history.errors import HistoryError
from studio.history.rows import CURRENT_BRANCH, get_meta
from studio.history.schema import TABLES, probe
from studio.history.store import HistoryStore
from studio.safe_json import UINT64_MAX, load_untrusted_json

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
            data = load_untrusted_json(payload, source=f"the payload", max_int=UINT64_MAX)
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


def _stage(problems: list[str], what: str, run) -> None:
    """Run one group of checks; a read error inside it becomes a problem instead of a traceback."""
    try:
        problems += run()
    except sqlite3.DatabaseError as exc:
        problems.append(f"{what} cannot be read: {exc}")
    except (HistoryError, ValueError, KeyError, TypeError, RecursionError, OverflowError) as exc:
        problems.append(f"{what}: {exc}")


def _missing_tables(conn: sqlite3.Connection) -> list[str]:
    names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
    return [f"the table {name!r} is missing" for name in [*TABLES, "search"] if name not in names]


def _integrity(conn: sqlite3.Connection) -> list[str]:
    """integrity_check's lines (unreadable pages, broken b-trees); it may itself stop on a damaged page."""
    lines = []
    try:
        for (line,) in conn.execute("PRAGMA integrity_check(100)"):
            if line != "ok":
                lines.append(f"sqlite: {line}")
    except sqlite3.DatabaseError as exc:
        lines.append(f"sqlite: the check stopped on a damaged page ({exc})")
        for table in [*TABLES, "search"]:  # which tables the damage reaches
            try:
                conn.execute(f"SELECT * FROM {table}").fetchall()
            except sqlite3.DatabaseError as error:
                lines.append(f"the table {table!r} cannot be read in full ({error})")
    return lines


def check_document(path: str | os.PathLike) -> list[str]:
    """Problems found in the document (empty when it is sound). Never raises for a bad file: a file that cannot
    be opened or read gives problems saying so."""
    try:
        probe(Path(path))
        store = HistoryStore.open(path, readonly=True)
    except HistoryError as exc:
        return [str(exc)]
    except sqlite3.DatabaseError as exc:
        return [f"{path} cannot be read: {exc}"]
    problems: list[str] = []
    try:
        conn = store._conn()
        _stage(problems, "the file", lambda: _integrity(conn))
        _stage(problems, "the table list", lambda: _missing_tables(conn))
        if problems:
            return problems[:MAX_PROBLEMS]
        try:
            conn.execute("BEGIN")
        except sqlite3.DatabaseError as exc:
            return [f"the file cannot be read: {exc}"]
        try:
            _stage(problems, "references", lambda: [f"broken reference in {row[0]}, row {row[1]}"
                                                    for row in conn.execute("PRAGMA foreign_key_check")])
            _stage(problems, "blobs", lambda: _blob_problems(conn))
            _stage(problems, "events", lambda: _event_problems(conn))
            if not problems:
                _stage(problems, "branches", lambda: _state_problems(conn))
        finally:
            try:
                conn.execute("COMMIT")
            except sqlite3.DatabaseError:
                pass
    finally:
        try:
            store.close()
        except sqlite3.Error:
            pass
    return problems[:MAX_PROBLEMS]
