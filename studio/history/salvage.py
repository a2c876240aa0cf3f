"""`studio history salvage DOC --out NEW`: copy every event that still reads out of a damaged document.

The damaged file is only read (read-only connection): each table is scanned, and where a scan breaks on a
damaged page the remaining rows are looked up one row id at a time, so rows on the pages that still read are
found. (SQLite's `.recover` is not used: the sqlite3 3.40 tool of this platform fails on every file.)

Then only what checks out is kept: blobs whose sha256 matches, events whose payload is valid, whose blobs are
there and which replay on their parent's state (feedback only on kept generations). An event whose parent was
lost hangs on its nearest kept ancestor (or, when its revision row is lost too, on the event logged before it).
Branches keep their names, their heads move back to the nearest kept revision; revisions whose branch is lost
go to a branch named "salvaged". When the first ("created") event is lost, a new one with id 0 takes its place.
The new document is built next to NEW and linked into place only if that name is still free.
"""

from __future__ import annotations

import copy
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

import numpy as np
import studio
from studio.history import events as ev
from studio.history.blobs import Blob, decode_json, sha256_hex, unpack
from studio.history.checkpoints import build_missing_checkpoints, write_root_checkpoint
from studio.history.errors import HistoryError
from studio.history.files import link_new, remove_leftovers, temp_path
from studio.history.rows import CURRENT_BRANCH, add_event, add_revision, create_branch, insert_blob, payload_text, \
    set_meta
from studio.history.schema import create_tables, fts5_available
from studio.history.state import DocumentState, LayerState, apply_event
from studio.safe_json import UINT64_MAX, UntrustedJsonError, load_untrusted_json

MAX_GAP = 1_000  # row ids probed past the last readable one when a table cannot be scanned
SALVAGED_BRANCH = "salvaged"


@dataclass(frozen=True)
class SalvageSummary:
    path: Path
    events: int  # events copied
    lost: int  # event rows that were read but could not be kept
    blobs: int


def _rows(conn: sqlite3.Connection, table: str, columns: str) -> Iterator[tuple]:
    """(rowid, *columns) of every row that reads: a scan, then row-by-row probing past where it broke."""
    last = 0
    try:
        for row in conn.execute(f"SELECT rowid, {columns} FROM {table} ORDER BY rowid"):
            last = row[0]
            yield row
        return
    except sqlite3.DatabaseError:
        pass
    try:
        top = conn.execute(f"SELECT MAX(rowid) FROM {table}").fetchone()[0] or 0
    except sqlite3.DatabaseError:
        top = None
    rowid, misses = last + 1, 0
    while (rowid <= top) if top is not None else misses < MAX_GAP:
        try:
            row = conn.execute(f"SELECT rowid, {columns} FROM {table} WHERE rowid = ?", (rowid,)).fetchone()
        except sqlite3.DatabaseError:
            row = None
        if row is None:
            misses += 1
        else:
            misses = 0
            yield row
        rowid += 1


def _read_all(conn: sqlite3.Connection, table: str, columns: str) -> list[tuple]:
    try:
        return list(_rows(conn, table, columns))
    except sqlite3.DatabaseError:  # the table itself is gone (its schema row or root page)
        return []


class _Blobs:
    """The salvaged blobs, as a `BlobSource` for replaying."""

    def __init__(self) -> None:
        self.blobs: dict[str, Blob] = {}

    def media(self, hash_: str) -> str:
        if hash_ not in self.blobs:
            raise HistoryError(f"Blob {hash_[:12]} was lost.")
        return self.blobs[hash_].media

    def array(self, hash_: str, *, max_pixels: int | None = None) -> Any:
        from studio.history.blobs import decode_png

        return decode_png(self.blobs[hash_].data, max_pixels=max_pixels)

    def json(self, hash_: str) -> Any:
        return decode_json(self.blobs[hash_].data)


def _good_blobs(conn: sqlite3.Connection) -> _Blobs:
    found = _Blobs()
    for _, hash_, media, codec, data in _read_all(conn, "blobs", "hash, media, codec, data"):
        try:
            raw = unpack(codec, data)
            if isinstance(hash_, str) and sha256_hex(raw) == hash_:
                found.blobs[hash_] = Blob.from_bytes(raw, media)
        except (HistoryError, TypeError, ValueError):
            continue
    return found


def _events(conn: sqlite3.Connection) -> list[tuple[int, float, float, str, dict, int]]:
    """Readable, well-formed event rows: (id, time, updated, kind, payload, revision), by id."""
    kept = []
    for row in _read_all(conn, "events", "id, time, updated, kind, payload, revision"):
        _, event_id, when, updated, kind, payload, revision = row
        try:
            data = load_untrusted_json(payload, source=f"event {event_id}", max_int=UINT64_MAX)
            ev.validate_payload(kind, data)
        except (UntrustedJsonError, HistoryError, TypeError):
            continue
        numbers_ok = all(isinstance(v, int) and 0 <= v < 2**63 for v in (event_id, revision))
        times_ok = all(isinstance(v, (int, float)) and 0 <= v <= 253_402_300_799 for v in (when, updated))
        if numbers_ok and times_ok:
            kept.append((event_id, float(when), float(updated), kind, data, revision))
    kept.sort()
    return kept


def salvage_document(source: str | os.PathLike, out: str | os.PathLike) -> SalvageSummary:
    """Copy every readable, consistent event of the (damaged) document `source` into the new document `out`."""
    source, out = Path(source), Path(out)
    if not source.is_file():
        raise HistoryError(f"The document {source} does not exist.")
    if out.exists():
        raise HistoryError(f"The document {out} already exists; choose a new name.")
    if not out.parent.is_dir():
        raise HistoryError(f"The folder {out.parent} does not exist.")
    remove_leftovers(out.parent)
    temp = temp_path(out)
    try:
        try:
            conn = sqlite3.connect(f"file:{quote(str(source.resolve()))}?mode=ro", uri=True, isolation_level=None)
        except sqlite3.Error as exc:
            raise HistoryError(f"{source} cannot be opened at all ({exc}); nothing could be salvaged.") from exc
        try:
            blobs = _good_blobs(conn)
            rows = _events(conn)
            revisions = {r[1]: r[2:] for r in _read_all(conn, "revisions", "id, parent, branch, time, thumbnail")}
            branches = {r[1]: r[2:] for r in _read_all(conn, "branches", "id, name, head, forked_from, created")}
            current = next((r[2] for r in _read_all(conn, "meta", "key, value") if r[1] == CURRENT_BRANCH), None)
        finally:
            conn.close()
        if not rows and not blobs.blobs:
            raise HistoryError(f"Nothing in {source} could be read; no document was written.")
        summary = _write(temp, blobs, rows, revisions, branches, current)
        if not link_new(temp, out):
            raise HistoryError(f"The document {out} was created by another program meanwhile; nothing was "
                               "written over it.")
        return SalvageSummary(out, summary[0], len(rows) - summary[0], summary[1])
    finally:
        temp.unlink(missing_ok=True)
        Path(f"{temp}-journal").unlink(missing_ok=True)


def _shallow(state: DocumentState) -> DocumentState:
    """A copy sharing the pixels read-only: a stroke on it copies only the layer it changes."""
    layers = {}
    for name, layer in state.layers.items():
        content = layer.content
        if isinstance(content, np.ndarray):
            content = content.view()
            content.flags.writeable = False
        else:
            content = copy.deepcopy(content)
        layers[name] = LayerState(layer.kind, copy.deepcopy(layer.props), content, layer.content_hash)
    return DocumentState(state.revision, state.width, state.height, copy.deepcopy(state.settings), layers)


def _write(path: Path, blobs: _Blobs, rows: list, revisions: dict, branches: dict, current: Any) -> tuple[int, int]:
    """Replay the salvaged events, keep those that fit, build the new document; (events kept, blobs kept)."""
    by_revision: dict[int, tuple] = {}
    parent_of: dict[int, int | None] = {}
    previous = None
    for row in rows:
        revision = row[5]
        if revision in by_revision:
            continue
        by_revision[revision] = row
        stored = revisions.get(revision)
        parent_of[revision] = stored[0] if stored is not None else previous
        previous = revision
    for revision in list(parent_of):  # skip revisions whose event was lost; parents are always older
        parent = parent_of[revision]
        while parent is not None and parent not in by_revision:
            stored = revisions.get(parent)
            parent = stored[0] if stored is not None and isinstance(stored[0], int) and stored[0] < parent else None
        parent_of[revision] = parent if parent is None or parent < revision else None
    names = {bid: b[0] for bid, b in branches.items() if isinstance(b[0], str)}

    def branch_of(revision: int) -> str:
        stored = revisions.get(revision)
        return names.get(stored[1] if stored else None, SALVAGED_BRANCH)

    root = next((r for r in sorted(by_revision) if by_revision[r][3] == ev.CREATED), None)
    if root is None:  # the first event was lost: a new "created" event with id 0 starts the history
        root = 0
        stamp = rows[0][1] if rows else time.time()
        by_revision[0] = (0, stamp, stamp, ev.CREATED, {"studio_version": studio.__version__}, 0)
    parent_of[root] = None
    last_use: dict[int, int] = {}
    for revision, parent in parent_of.items():
        if parent is not None:
            last_use[parent] = max(last_use.get(parent, 0), revision)
    kept: dict[int, tuple] = {root: (by_revision[root], None, branch_of(root))}
    states = {root: DocumentState(revision=root)}
    dropped_to: dict[int, int] = {}  # a dropped revision -> the kept revision its children hang on
    generations: dict[int, int] = {}
    for revision in sorted(r for r in by_revision if r > root):
        row = by_revision[revision]
        parent = parent_of[revision]
        while parent is not None and parent not in kept:
            parent = dropped_to.get(parent)
        if parent is None or parent not in states:
            parent = root
        kind, payload = row[3], row[4]
        fits = kind != ev.CREATED and all(h in blobs.blobs for h in ev.blob_refs(kind, payload))
        if fits and kind == ev.FEEDBACK:
            results = generations.get(payload["generation"])
            fits = results is not None and (payload["result"] is None or payload["result"] < results)
        if fits and kind in (ev.RESTORE, ev.BRANCH):
            fits = payload["revision"] == parent
        state = None
        if fits:
            state = _shallow(states[parent])
            try:
                apply_event(state, revision=revision, kind=kind, payload=payload, blobs=blobs)
            except (HistoryError, KeyError, ValueError, TypeError):
                state = None
        if state is None:
            dropped_to[revision] = parent
            last_use[parent] = max(last_use.get(parent, 0), last_use.get(revision, 0))
        else:
            states[revision] = state
            kept[revision] = (row, parent, branch_of(revision))
            if kind == ev.GENERATION:
                generations[row[0]] = len(payload["results"])
        if parent != root and last_use.get(parent, 0) <= revision:
            states.pop(parent, None)  # no later revision hangs on it
    thumbnails = {r: v[3] for r, v in revisions.items() if v[3] in blobs.blobs}
    return _build(path, blobs, kept, branches, current, thumbnails), len(blobs.blobs)


def _build(path: Path, blobs: _Blobs, kept: dict, branches: dict, current: Any, thumbnails: dict) -> int:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("BEGIN")
        conn.execute("PRAGMA defer_foreign_keys = ON")
        create_tables(conn, fts=fts5_available())
        for blob in blobs.blobs.values():
            insert_blob(conn, blob)
        branch_ids: dict[str, int] = {}
        heads: dict[str, int] = {}
        for revision in sorted(kept):
            heads[kept[revision][2]] = revision  # the newest kept revision of each branch by default
        for bid, (name, head, forked_from, created) in sorted(branches.items()):
            if isinstance(name, str) and name in heads and head in kept:
                heads[name] = head
        for name in sorted(heads, key=lambda n: min(r for r in kept if kept[r][2] == n)):
            forked = next((kept[r][1] for r in sorted(kept) if kept[r][2] == name), None)
            branch_ids[name] = create_branch(conn, name=name, head=heads[name], forked_from=forked,
                                             time=kept[min(r for r in kept if kept[r][2] == name)][0][1])
        for revision in sorted(kept):
            row, parent, name = kept[revision]
            add_revision(conn, parent=parent, branch=branch_ids[name], time=row[1], thumbnail=thumbnails.get(revision),
                         revision=revision)
            add_event(conn, time=row[1], updated=row[2], kind=row[3], payload=payload_text(row[4]),
                      revision=revision, event=row[0], text=ev.search_text(row[3], row[4]))
        current_name = branches.get(int(current), (None,))[0] if str(current).isdigit() else None
        chosen = branch_ids.get(current_name) or branch_ids.get("main") or min(branch_ids.values())
        set_meta(conn, CURRENT_BRANCH, str(chosen))
        set_meta(conn, "created", str(kept[min(kept)][0][1]))
        write_root_checkpoint(conn, min(kept))
        build_missing_checkpoints(conn)
        conn.execute("COMMIT")
    finally:
        conn.close()
    return len(kept) - (1 if kept[min(kept)][0][0] == 0 else 0)
