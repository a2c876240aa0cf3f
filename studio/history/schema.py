"""The file format: one SQLite file per document (extension `.studio`); the document file IS the store.

Tables (schema version 2):
- `meta`: key/value facts (created, studio version, current branch, search mode).
- `blobs`: content-addressed bytes (sha256 of the raw bytes), PNG kept as is, other media zlib-compressed.
- `branches`: named lines of history; `head` is the newest revision of the branch.
- `revisions`: one per event, with its parent (history is a tree) and the branch it was made on.
- `events`: append-only log: time, kind, JSON payload and the revision it produced. The only in-place change is
  coalescing: a prompt/setting edit that follows an edit of the same field within a short window updates the
  newest event instead of adding one (`updated` is the time of its last edit).
- `checkpoints`: the full document state (layer name -> blob hash, settings) at some revisions, so a state is
  rebuilt from the nearest checkpoint plus at most `CHECKPOINT_INTERVAL` events. Derived data: rebuilt on import.
- `search`: text of prompts, negative prompts and chat turns by event id (FTS5 when sqlite3 has it, else a plain
  table searched with LIKE).

`PRAGMA application_id` marks our files, `PRAGMA user_version` is the schema version. Files are used in WAL mode;
a committed transaction survives a process crash, and a power cut as `DURABILITY` says.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import quote

from studio.history.errors import HistoryError, NewerSchemaError, NotAStudioFileError

APPLICATION_ID = 0x53544431  # "STD1" in ASCII: marks a ControlNet Studio document
SCHEMA_VERSION = 2
FILE_SUFFIX = ".studio"
CHECKPOINT_INTERVAL = 100  # a revision is at most this many events away from a checkpoint on its path
# What an acknowledged (committed) event survives. "crash" (default): a process crash at once, and a power cut
# once the helper thread has synced the WAL (within `background.SYNC_SECONDS`, 1 s); no fsync per commit.
# "full": also a power cut at once (an fsync per transaction: slower on slow or shared disks). Either way the
# file stays consistent.
DURABILITY = {"crash": "NORMAL", "full": "FULL"}
DEFAULT_DURABILITY = "crash"

REQUIRED_TABLES = ("meta", "blobs", "branches", "revisions", "events")  # in every schema version
_SQLITE_MAGIC = b"SQLite format 3\x00"
_HEADER_SIZE = 100
_APPLICATION_ID_OFFSET = 68

TABLES = {
    "meta": "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "blobs": (
        "CREATE TABLE blobs (id INTEGER PRIMARY KEY, hash TEXT NOT NULL UNIQUE, media TEXT NOT NULL, "
        "codec TEXT NOT NULL, size INTEGER NOT NULL, data BLOB NOT NULL)"
    ),
    "branches": (
        "CREATE TABLE branches (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, "
        "head INTEGER NOT NULL REFERENCES revisions(id) DEFERRABLE INITIALLY DEFERRED, "
        "forked_from INTEGER REFERENCES revisions(id), created REAL NOT NULL)"
    ),
    "revisions": (
        "CREATE TABLE revisions (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES revisions(id), "
        "branch INTEGER NOT NULL REFERENCES branches(id), time REAL NOT NULL, "
        "thumbnail TEXT REFERENCES blobs(hash))"
    ),
    "events": (
        "CREATE TABLE events (id INTEGER PRIMARY KEY, time REAL NOT NULL, updated REAL NOT NULL, "
        "kind TEXT NOT NULL, payload TEXT NOT NULL, revision INTEGER NOT NULL UNIQUE REFERENCES revisions(id))"
    ),
    "checkpoints": (
        "CREATE TABLE checkpoints (revision INTEGER PRIMARY KEY REFERENCES revisions(id), state TEXT NOT NULL)"
    ),
}
INDEXES = {
    "events_kind_time": "CREATE INDEX events_kind_time ON events (kind, time)",
    "events_time": "CREATE INDEX events_time ON events (time)",
    "revisions_parent": "CREATE INDEX revisions_parent ON revisions (parent)",
    "revisions_branch": "CREATE INDEX revisions_branch ON revisions (branch)",
}
SEARCH_FTS5 = "CREATE VIRTUAL TABLE search USING fts5(text)"
SEARCH_PLAIN = "CREATE TABLE search (id INTEGER PRIMARY KEY, text TEXT NOT NULL)"


def fts5_available() -> bool:
    """True when this Python's sqlite3 was built with the FTS5 full-text extension."""
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute("CREATE VIRTUAL TABLE probe USING fts5(text)")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        conn.close()


def create_tables(conn: sqlite3.Connection, *, fts: bool) -> None:
    """Create every table and index of the current schema (inside the caller's transaction)."""
    for ddl in TABLES.values():
        conn.execute(ddl)
    for ddl in INDEXES.values():
        conn.execute(ddl)
    conn.execute(SEARCH_FTS5 if fts else SEARCH_PLAIN)
    conn.execute("INSERT INTO meta (key, value) VALUES ('search', ?)", ("fts5" if fts else "like",))
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _read_header(path: Path) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(_HEADER_SIZE)
    except FileNotFoundError:
        raise HistoryError(f"The document {path} does not exist.") from None
    except IsADirectoryError:
        raise NotAStudioFileError(f"{path} is a folder, not a ControlNet Studio document.") from None
    except OSError as exc:
        raise HistoryError(f"The document {path} cannot be read ({exc.strerror}).") from exc


def probe(path: Path) -> int:
    """Schema version of the document at `path`, read without writing anything.

    Raises NotAStudioFileError for anything that is not our SQLite file (our application id on a file without
    our tables included) and NewerSchemaError for a file from a newer version. The file is not changed: the
    header is read as bytes and the version through a read-only connection.
    """
    header = _read_header(path)
    if len(header) < _HEADER_SIZE or not header.startswith(_SQLITE_MAGIC):
        raise NotAStudioFileError(f"{path} is not a ControlNet Studio document (not an SQLite file).")
    app_id = int.from_bytes(header[_APPLICATION_ID_OFFSET : _APPLICATION_ID_OFFSET + 4], "big")
    if app_id != APPLICATION_ID:
        raise NotAStudioFileError(
            f"{path} is an SQLite database of another program, not a ControlNet Studio document."
        )
    conn = _probe_connection(path)
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise NotAStudioFileError(f"{path} is damaged and cannot be read ({exc}).") from exc
    finally:
        conn.close()
    missing = [name for name in REQUIRED_TABLES if name not in tables]
    if missing and 1 <= version <= SCHEMA_VERSION:
        raise NotAStudioFileError(
            f"{path} is marked as a ControlNet Studio document but lacks the table {missing[0]!r}; it was not "
            "opened (nothing was changed). `studio history salvage` can copy out what it still holds.")
    if version > SCHEMA_VERSION:
        raise NewerSchemaError(
            f"{path} was written by a newer ControlNet Studio (history schema {version}; this version reads "
            f"up to {SCHEMA_VERSION}); update the studio to open it."
        )
    if version < 1:
        raise NotAStudioFileError(f"{path} is not a complete ControlNet Studio document (no schema version).")
    return version


def _probe_connection(path: Path) -> sqlite3.Connection:
    """A connection that cannot write and, when no WAL file exists, creates no files either (immutable)."""
    resolved = Path(path).resolve()
    immutable = not resolved.with_name(resolved.name + "-wal").exists()
    uri = f"file:{quote(os.fspath(resolved))}?mode=ro" + ("&immutable=1" if immutable else "")
    return sqlite3.connect(uri, uri=True, isolation_level=None)


def connect(path: Path, *, readonly: bool, durability: str = DEFAULT_DURABILITY) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit) with foreign keys on.

    The writing connection switches the file to WAL mode, synced per `DURABILITY[durability]`. Reading
    connections are `query_only`: they cannot change data, yet the last connection to close still folds the WAL
    back into the file.
    """
    if durability not in DURABILITY:
        raise HistoryError(f"Unknown durability {durability!r}; use one of: {', '.join(DURABILITY)}.")
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=30)
    if readonly:
        conn.execute("PRAGMA query_only = ON")
    else:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {DURABILITY[durability]}")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn
