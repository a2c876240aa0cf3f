"""Reading the history: events (with filters and text search), revisions, branches, generations, blobs.

Every function takes a connection; `HistoryStore` gives each reading thread its own. Reads never wait for the
writer (WAL mode) and see every acknowledged event.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

import numpy as np

from studio.history import events as ev
from studio.history.blobs import Blob, decode_json, decode_png, unpack
from studio.history.errors import HistoryError
from studio.history.rows import CURRENT_BRANCH, get_meta


@dataclass(frozen=True)
class Event:
    """A logged event: `revision` is the revision it produced, `parent` that revision's parent."""

    id: int
    time: float
    updated: float
    kind: str
    payload: dict[str, Any]
    revision: int
    parent: int | None
    branch: str


@dataclass(frozen=True)
class Revision:
    """A point of history: made by event `event` of kind `kind`; `thumbnail` is a PNG blob hash or None."""

    id: int
    parent: int | None
    branch: str
    time: float
    kind: str
    event: int
    thumbnail: str | None


@dataclass(frozen=True)
class Branch:
    id: int
    name: str
    head: int
    forked_from: int | None
    created: float
    current: bool


@dataclass(frozen=True)
class Feedback:
    """One feedback event on a generation (`result` None: on the whole generation)."""

    event: int
    time: float
    result: int | None
    verdict: str | None
    rating: int | None
    comment: str | None


@dataclass(frozen=True)
class Generation:
    """A generation event with the feedback it received (oldest first)."""

    id: int
    revision: int
    branch: str
    time: float
    payload: dict[str, Any]
    feedback: tuple[Feedback, ...]

    @property
    def request(self) -> dict[str, Any]:
        return self.payload["request"]

    @property
    def results(self) -> list[str]:
        return self.payload["results"]

    @property
    def verdict(self) -> str | None:
        """The latest accept/reject verdict, or None."""
        return next((f.verdict for f in reversed(self.feedback) if f.verdict is not None), None)

    @property
    def rating(self) -> int | None:
        """The latest star rating, or None."""
        return next((f.rating for f in reversed(self.feedback) if f.rating is not None), None)


class DbBlobSource:
    """Blobs from the database, plus `pending` blobs of events not written yet (their pixels reused)."""

    def __init__(self, conn: sqlite3.Connection, pending: Mapping[str, Blob] | None = None) -> None:
        self._conn = conn
        self._pending = pending or {}

    def media(self, hash_: str) -> str:
        if hash_ in self._pending:
            return self._pending[hash_].media
        row = self._conn.execute("SELECT media FROM blobs WHERE hash = ?", (hash_,)).fetchone()
        if row is None:
            raise HistoryError(f"Blob {hash_[:12]} is missing from the document.")
        return row[0]

    def raw(self, hash_: str) -> bytes:
        if hash_ in self._pending:
            return self._pending[hash_].data
        return read_blob(self._conn, hash_)

    def array(self, hash_: str, *, max_pixels: int | None = None) -> np.ndarray:
        blob = self._pending.get(hash_)
        if blob is not None and blob.array is not None:
            return blob.array
        return decode_png(self.raw(hash_), max_pixels=max_pixels)

    def json(self, hash_: str) -> Any:
        return decode_json(self.raw(hash_))


def read_blob(conn: sqlite3.Connection, hash_: str) -> bytes:
    """Raw bytes of a blob; HistoryError if it is missing."""
    row = conn.execute("SELECT codec, data FROM blobs WHERE hash = ?", (hash_,)).fetchone()
    if row is None:
        raise HistoryError(f"Blob {hash_[:12]} is missing from the document.")
    return unpack(row[0], row[1])


def blob_media(conn: sqlite3.Connection, hash_: str) -> str:
    return DbBlobSource(conn).media(hash_)


_EVENT_SELECT = (
    "SELECT e.id, e.time, e.updated, e.kind, e.payload, e.revision, r.parent, b.name "
    "FROM events e JOIN revisions r ON r.id = e.revision JOIN branches b ON b.id = r.branch"
)


def _event(row: tuple) -> Event:
    return Event(row[0], row[1], row[2], row[3], json.loads(row[4]), row[5], row[6], row[7])


def _search_clause(text: str, mode: str) -> tuple[str, list[Any]]:
    words = re.findall(r"\w+", text)
    if not words:
        return "0", []
    if mode == "fts5":
        query = " ".join(f'"{word}"*' for word in words)
        return "e.id IN (SELECT rowid FROM search WHERE search MATCH ?)", [query]
    likes = " AND ".join("text LIKE ? ESCAPE '!'" for _ in words)
    patterns = ["%" + word.replace("!", "!!").replace("%", "!%").replace("_", "!_") + "%" for word in words]
    return f"e.id IN (SELECT rowid FROM search WHERE {likes})", patterns


def list_events(
    conn: sqlite3.Connection, *, kinds: Iterable[str] | None = None, since: float | None = None,
    until: float | None = None, text: str | None = None, branch: str | None = None, limit: int | None = None,
    newest_first: bool = False,
) -> list[Event]:
    """Events in log order (or newest first), filtered by kinds, time range [since, until], branch and text.

    Text search finds prompts, negative prompts, chat turns and feedback comments that contain every word of
    `text` (word prefixes; FTS5 when the file was created with it, else LIKE)."""
    where, params = [], []
    if kinds is not None:
        kinds = list(kinds)
        unknown = sorted(set(kinds) - set(ev.KINDS))
        if unknown:
            raise HistoryError(f"Unknown event kind(s): {', '.join(unknown)}; known: {', '.join(ev.KINDS)}.")
        where.append(f"e.kind IN ({', '.join('?' * len(kinds))})")
        params += kinds
    if since is not None:
        where.append("e.time >= ?")
        params.append(since)
    if until is not None:
        where.append("e.time <= ?")
        params.append(until)
    if branch is not None:
        where.append("b.name = ?")
        params.append(branch)
    if text is not None:
        clause, values = _search_clause(text, get_meta(conn, "search") or "like")
        where.append(clause)
        params += values
    sql = _EVENT_SELECT + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY e.id DESC" if newest_first else " ORDER BY e.id"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    return [_event(row) for row in conn.execute(sql, params)]


def get_event(conn: sqlite3.Connection, event_id: int) -> Event:
    row = conn.execute(_EVENT_SELECT + " WHERE e.id = ?", (event_id,)).fetchone()
    if row is None:
        raise HistoryError(f"Event {event_id} does not exist in this document.")
    return _event(row)


def list_revisions(conn: sqlite3.Connection, *, branch: str | None = None) -> list[Revision]:
    """Revisions oldest first, of one branch (only those made on it) or all."""
    sql = (
        "SELECT r.id, r.parent, b.name, r.time, e.kind, e.id, r.thumbnail FROM revisions r "
        "JOIN branches b ON b.id = r.branch JOIN events e ON e.revision = r.id"
    )
    params: list[Any] = []
    if branch is not None:
        sql += " WHERE b.name = ?"
        params.append(branch)
    return [Revision(*row) for row in conn.execute(sql + " ORDER BY r.id", params)]


def get_revision(conn: sqlite3.Connection, revision: int) -> Revision:
    row = conn.execute(
        "SELECT r.id, r.parent, b.name, r.time, e.kind, e.id, r.thumbnail FROM revisions r "
        "JOIN branches b ON b.id = r.branch JOIN events e ON e.revision = r.id WHERE r.id = ?", (revision,),
    ).fetchone()
    if row is None:
        raise HistoryError(f"Revision {revision} does not exist in this document.")
    return Revision(*row)


def nearest_thumbnail(conn: sqlite3.Connection, revision: int) -> str | None:
    """The thumbnail of `revision` or, when it has none, of its nearest ancestor that has one."""
    row = conn.execute(
        "WITH RECURSIVE up(id, parent, thumb) AS ("
        " SELECT id, parent, thumbnail FROM revisions WHERE id = ?"
        " UNION ALL SELECT r.id, r.parent, r.thumbnail FROM up JOIN revisions r ON r.id = up.parent"
        " WHERE up.thumb IS NULL) SELECT thumb FROM up WHERE thumb IS NOT NULL LIMIT 1",
        (revision,),
    ).fetchone()
    return None if row is None else row[0]


def list_branches(conn: sqlite3.Connection) -> list[Branch]:
    current = get_meta(conn, CURRENT_BRANCH)
    rows = conn.execute("SELECT id, name, head, forked_from, created FROM branches ORDER BY id")
    return [Branch(*row, current=str(row[0]) == current) for row in rows]


def current_branch(conn: sqlite3.Connection) -> Branch:
    row = conn.execute(
        "SELECT b.id, b.name, b.head, b.forked_from, b.created FROM meta m "
        "JOIN branches b ON b.id = CAST(m.value AS INTEGER) WHERE m.key = ?", (CURRENT_BRANCH,),
    ).fetchone()
    if row is None:
        raise HistoryError("The document has no current branch; it is damaged.")
    return Branch(*row, current=True)


def _feedback(event: Event) -> Feedback:
    p = event.payload
    return Feedback(event.id, event.time, p["result"], p["verdict"], p["rating"], p["comment"])


def list_generations(conn: sqlite3.Connection) -> list[Generation]:
    """Every generation, oldest first, each with its feedback."""
    feedback: dict[int, list[Feedback]] = {}
    for event in list_events(conn, kinds=[ev.FEEDBACK]):
        feedback.setdefault(event.payload["generation"], []).append(_feedback(event))
    return [
        Generation(e.id, e.revision, e.branch, e.time, e.payload, tuple(feedback.get(e.id, ())))
        for e in list_events(conn, kinds=[ev.GENERATION])
    ]


def get_generation(conn: sqlite3.Connection, generation: int) -> Generation:
    event = get_event(conn, generation)
    if event.kind != ev.GENERATION:
        raise HistoryError(f"Event {generation} is a {event.kind} event, not a generation.")
    rows = conn.execute(
        _EVENT_SELECT + " WHERE e.kind = ? AND json_extract(e.payload, '$.generation') = ? ORDER BY e.id",
        (ev.FEEDBACK, generation),
    )
    return Generation(event.id, event.revision, event.branch, event.time, event.payload,
                      tuple(_feedback(_event(row)) for row in rows))
