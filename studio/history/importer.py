"""Import a history archive (made by `export_history`) into a new document.

The archive is untrusted. Nothing is extracted to disk: members are read into the new document only, so no
member name can write outside it (names other than the archive layout are refused, as are absolute paths and
`..`). Limits cap the member count, each member's size and the total uncompressed size, checked on the bytes
actually inflated (zip bombs stop at the cap). Every blob's sha256 must match its name, every event must be
well formed, reference earlier revisions and existing blobs, and the whole history must replay cleanly.
The document is built next to its target and moved into place only when all checks passed.
"""

from __future__ import annotations

import os
import sqlite3
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.history import events as ev
from studio.history.archive import DATA_MEMBERS, EVENTS, FORMAT, FORMAT_VERSION, MANIFEST, parse_blob_path
from studio.history.blobs import Blob, is_blob_hash
from studio.history.checkpoints import build_missing_checkpoints, state_at, write_root_checkpoint
from studio.history.errors import HistoryError, ImportRejectedError
from studio.history.files import free_name, link_new, remove_leftovers, temp_path
from studio.history.rows import (
    CURRENT_BRANCH, add_event, add_revision, create_branch, insert_blob, payload_text, set_meta,
)
from studio.history.schema import create_tables, fts5_available
from studio.safe_json import INT64_MAX, UINT64_MAX, UntrustedJsonError, load_untrusted_json

MAX_TIME = 253_402_300_799  # 9999-12-31 23:59:59 UTC, the last second `datetime` shows
_RECORD_KEYS = {"id", "time", "updated", "kind", "payload", "revision", "parent", "branch", "thumbnail"}


@dataclass(frozen=True)
class ImportLimits:
    """Caps on what an archive may hold, matched to real documents. Members must be stored or deflated (what
    export writes; LZMA, bzip2 and others are refused) and members above 1 MiB compressed at most
    `max_ratio`:1 (PNG blobs are stored, event JSON deflates about 5-30:1); declared sizes are checked before
    reading, and zipfile never inflates a member past its declared size, so the counts taken while inflating
    hold. Canvas sizes are held to the document's limits by the event checks (`events.MAX_SIDE`, `MAX_PIXELS`)."""

    max_members: int = 200_000
    # the largest blob a real document holds: a PNG of the largest canvas (8192x8192 RGBA, incompressible)
    max_member_bytes: int = 8192 * 8192 * 4 + 2**20
    max_total_bytes: int = 8 * 2**30
    max_ratio: int = 200  # uncompressed / compressed bytes of a member above 1 MiB; real JSON reaches ~30:1
    max_manifest_bytes: int = 2**20
    max_events: int = 1_000_000


@dataclass(frozen=True)
class ImportSummary:
    path: Path
    events: int
    blobs: int
    branches: int


def _reject(archive: Path, problem: str) -> ImportRejectedError:
    return ImportRejectedError(f"The archive {archive.name} was refused: {problem}.")


class _Reader:
    """Reads members of an archive within the limits."""

    def __init__(self, archive: Path, zf: zipfile.ZipFile, limits: ImportLimits) -> None:
        self.archive, self.zf, self.limits = archive, zf, limits
        self.total = 0

    def read(self, info: zipfile.ZipInfo) -> bytes:
        cap = self.limits.max_member_bytes
        if info.file_size > cap:
            raise _reject(self.archive, f"member {info.filename} is larger than {cap} bytes")
        try:
            with self.zf.open(info) as member:
                data = member.read(cap + 1)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, RuntimeError) as exc:
            raise _reject(self.archive, f"member {info.filename} cannot be read ({exc})") from exc
        if len(data) > cap:
            raise _reject(self.archive, f"member {info.filename} is larger than {cap} bytes")
        self.total += len(data)
        if self.total > self.limits.max_total_bytes:
            raise _reject(self.archive, f"it holds more than {self.limits.max_total_bytes} bytes")
        return data


def _check_names(archive: Path, infos: list[zipfile.ZipInfo], limits: ImportLimits) -> dict[str, zipfile.ZipInfo]:
    if len(infos) > limits.max_members:
        raise _reject(archive, f"it has {len(infos)} members, more than {limits.max_members}")
    members: dict[str, zipfile.ZipInfo] = {}
    declared = 0
    for info in infos:
        name = info.filename
        if info.flag_bits & 0x1:
            raise _reject(archive, f"member {name} is encrypted")
        if info.is_dir() and name in ("blobs/",):
            continue
        unsafe = name.startswith(("/", "\\")) or "\\" in name or ".." in name.split("/") or ":" in name
        known = name in (MANIFEST, EVENTS, *DATA_MEMBERS) or parse_blob_path(name) is not None
        if unsafe or not known or "\x00" in name:
            raise _reject(archive, f"it holds the unexpected member {name!r}")
        if name in members:
            raise _reject(archive, f"member {name} appears twice")
        if info.file_size > limits.max_member_bytes:
            raise _reject(archive, f"member {name} is larger than {limits.max_member_bytes} bytes")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _reject(archive, f"member {name} uses compression method {info.compress_type}; only stored "
                                   "and deflated members are read")
        if info.file_size > 2**20 and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise _reject(archive, f"member {name} is compressed {info.file_size // max(info.compress_size, 1)}"
                                   f":1, more than the {limits.max_ratio}:1 a real archive reaches")
        declared += info.file_size
        members[name] = info
    if declared > limits.max_total_bytes:
        raise _reject(archive, f"it declares {declared} bytes, more than {limits.max_total_bytes}")
    for required in (MANIFEST, EVENTS):
        if required not in members:
            raise _reject(archive, f"{required} is missing")
    return members


def _load_json(archive: Path, name: str, data: bytes | str) -> Any:
    try:
        return load_untrusted_json(data, source=name, max_int=UINT64_MAX)  # seeds are unsigned 64-bit
    except UntrustedJsonError as exc:
        raise _reject(archive, str(exc).rstrip(".")) from None


def is_time(value: Any) -> bool:
    """A Unix time that `datetime` can show: a finite number from 1970 to the year 9999."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= MAX_TIME


def _check_manifest(archive: Path, manifest: Any) -> None:
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _reject(archive, "it is not a ControlNet Studio history archive")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise _reject(archive, f"archive format {manifest.get('format_version')!r} is not supported")
    branches = manifest.get("branches")
    if not isinstance(branches, list) or not branches:
        raise _reject(archive, "the manifest lists no branches")
    names = set()
    for branch in branches:
        ok = isinstance(branch, dict) and isinstance(branch.get("name"), str) and isinstance(branch.get("head"), int)
        ok = ok and (branch.get("forked_from") is None or isinstance(branch.get("forked_from"), int))
        ok = ok and is_time(branch.get("created")) and branch["name"] not in names
        if not ok:
            raise _reject(archive, f"the manifest has a malformed branch entry {branch!r}")
        names.add(branch["name"])
    if manifest.get("current_branch") not in names:
        raise _reject(archive, "the manifest's current branch is not among its branches")
    if manifest.get("created") is not None and not is_time(manifest["created"]):
        raise _reject(archive, "the manifest has a bad creation time")
    if not isinstance(manifest.get("counts"), dict):
        raise _reject(archive, "the manifest has no counts")


def _check_record(archive: Path, line: int, record: Any, seen: dict[int, str], blobs: set[str],
                  branches: set[str], generations: dict[int, int]) -> None:
    where = f"event line {line}"
    if not isinstance(record, dict) or set(record) != _RECORD_KEYS:
        raise _reject(archive, f"{where} does not have the fields {', '.join(sorted(_RECORD_KEYS))}")
    for key in ("id", "revision"):
        if not isinstance(record[key], int) or isinstance(record[key], bool) or not 1 <= record[key] <= INT64_MAX:
            raise _reject(archive, f"{where} has a bad {key}")
    for key in ("time", "updated"):
        if not is_time(record[key]):
            raise _reject(archive, f"{where} has a bad {key} (a Unix time from 1970 to 9999 is needed)")
    kind, payload, parent = record["kind"], record["payload"], record["parent"]
    try:
        ev.validate_payload(kind, payload)
    except HistoryError as exc:
        raise _reject(archive, f"{where}: {exc}") from exc
    if record["revision"] in seen:
        raise _reject(archive, f"{where} repeats revision {record['revision']}")
    if (parent is None) != (not seen) or (parent is not None and parent not in seen):
        raise _reject(archive, f"{where} has a parent that is not an earlier revision")
    if (kind == ev.CREATED) != (parent is None):
        raise _reject(archive, f"{where}: only the first event is a 'created' event")
    if record["branch"] not in branches:
        raise _reject(archive, f"{where} is on an unknown branch")
    if kind in (ev.RESTORE, ev.BRANCH) and payload["revision"] != parent:
        raise _reject(archive, f"{where} restores a revision that is not its parent")
    thumbnail = record["thumbnail"]
    if thumbnail is not None and not (is_blob_hash(thumbnail) and thumbnail in blobs):
        raise _reject(archive, f"{where} names a thumbnail that is not in the archive")
    missing = [h for h in ev.blob_refs(kind, payload) if h not in blobs]
    if missing:
        raise _reject(archive, f"{where} names blob {missing[0][:12]}, which is not in the archive")
    if kind == ev.FEEDBACK:
        results = generations.get(payload["generation"])
        if results is None or (payload["result"] is not None and payload["result"] >= results):
            raise _reject(archive, f"{where} gives feedback on an unknown generation or result")
    if kind == ev.GENERATION:
        generations[record["id"]] = len(payload["results"])
    seen[record["revision"]] = record["branch"]


def _parse_events(archive: Path, data: bytes, blobs: set[str], branches: set[str], *,
                  max_events: int) -> list[dict[str, Any]]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _reject(archive, f"{EVENTS} is not UTF-8 text") from exc
    records: list[dict[str, Any]] = []
    seen: dict[int, str] = {}
    generations: dict[int, int] = {}
    last_id = 0
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        if len(records) >= max_events:
            raise _reject(archive, f"it holds more than {max_events} events")
        record = _load_json(archive, f"{EVENTS} line {line}", raw)
        _check_record(archive, line, record, seen, blobs, branches, generations)
        if record["id"] <= last_id:
            raise _reject(archive, f"event line {line} is out of order")
        last_id = record["id"]
        records.append(record)
    if not records:
        raise _reject(archive, "it holds no events")
    return records


def _build(conn: sqlite3.Connection, archive: Path, manifest: dict, records: list[dict[str, Any]]) -> None:
    branch_ids = {b["name"]: i for i, b in enumerate(manifest["branches"], start=1)}
    revisions = {r["revision"] for r in records}
    for branch in manifest["branches"]:
        if branch["head"] not in revisions or (branch["forked_from"] not in revisions | {None}):
            raise _reject(archive, f"branch {branch['name']!r} points at a revision that is not in the archive")
        create_branch(conn, name=branch["name"], head=branch["head"], forked_from=branch["forked_from"],
                      time=float(branch["created"]), branch=branch_ids[branch["name"]])
    for record in records:
        add_revision(conn, parent=record["parent"], branch=branch_ids[record["branch"]], time=float(record["time"]),
                     thumbnail=record["thumbnail"], revision=record["revision"])
        add_event(conn, time=float(record["time"]), updated=float(record["updated"]), kind=record["kind"],
                  payload=payload_text(record["payload"]), revision=record["revision"], event=record["id"],
                  text=ev.search_text(record["kind"], record["payload"]))
    set_meta(conn, CURRENT_BRANCH, str(branch_ids[manifest["current_branch"]]))
    set_meta(conn, "created", str(float(manifest.get("created") or records[0]["time"])))
    write_root_checkpoint(conn, records[0]["revision"])
    try:
        build_missing_checkpoints(conn)
        leaves = conn.execute("SELECT id FROM revisions r WHERE NOT EXISTS "
                              "(SELECT 1 FROM revisions c WHERE c.parent = r.id)").fetchall()
        for (leaf,) in leaves:  # every event lies on the path to a leaf: this replays the whole history
            state_at(conn, leaf)
    except HistoryError as exc:
        raise _reject(archive, f"its history does not replay ({exc})") from exc
    if conn.execute("PRAGMA foreign_key_check").fetchall():
        raise _reject(archive, "its revisions and branches do not fit together")


def import_history(archive: str | os.PathLike, out: str | os.PathLike, *,
                   limits: ImportLimits = ImportLimits()) -> ImportSummary:
    """Build the new document `out` (which must not exist) from the history archive `archive`."""
    archive, out = Path(archive), Path(out)
    if out.exists():
        raise HistoryError(f"The document {out} already exists; choose a new name.")
    if not out.parent.is_dir():
        raise HistoryError(f"The folder {out.parent} does not exist.")
    try:
        zf = zipfile.ZipFile(archive)
    except FileNotFoundError:
        raise HistoryError(f"The archive {archive} does not exist.") from None
    except (zipfile.BadZipFile, OSError) as exc:
        raise _reject(archive, f"it is not a readable zip file ({exc})") from exc
    remove_leftovers(out.parent)
    temp = temp_path(out)
    try:
        with zf:
            members = _check_names(archive, zf.infolist(), limits)
            reader = _Reader(archive, zf, limits)
            if members[MANIFEST].file_size > limits.max_manifest_bytes:
                raise _reject(archive, f"{MANIFEST} is larger than {limits.max_manifest_bytes} bytes")
            manifest = _load_json(archive, MANIFEST, reader.read(members[MANIFEST]))
            _check_manifest(archive, manifest)
            conn = sqlite3.connect(temp, isolation_level=None)
            try:
                conn.execute("PRAGMA foreign_keys = ON")
                conn.execute("BEGIN")
                conn.execute("PRAGMA defer_foreign_keys = ON")  # branches and revisions refer to each other
                create_tables(conn, fts=fts5_available())
                hashes = set()
                for name, info in members.items():
                    parsed = parse_blob_path(name)
                    if parsed is None:
                        continue
                    blob = Blob.from_bytes(reader.read(info), parsed[1])
                    if blob.hash != parsed[0]:
                        raise _reject(archive, f"blob {name} does not match its sha256")
                    insert_blob(conn, blob)
                    hashes.add(blob.hash)
                branches = {b["name"] for b in manifest["branches"]}
                records = _parse_events(archive, reader.read(members[EVENTS]), hashes, branches,
                                        max_events=limits.max_events)
                _build(conn, archive, manifest, records)
                counts = manifest["counts"]
                if counts.get("events") != len(records) or counts.get("blobs") != len(hashes):
                    raise _reject(archive, "its contents do not match the counts of its manifest")
                conn.execute("COMMIT")
            finally:
                conn.close()
        if not link_new(temp, out):
            kept = next((name for name in free_name(out, "imported") if link_new_if_free(temp, name)), None)
            where = f"the imported history was saved as {kept}" if kept else "the imported history was not kept"
            raise HistoryError(f"The document {out} was created by another program while the import ran and "
                               f"was left as it is; {where}.")
    finally:
        temp.unlink(missing_ok=True)
    return ImportSummary(out, len(records), len(hashes), len(manifest["branches"]))


def link_new_if_free(temp: Path, target: Path) -> bool:
    return not target.exists() and link_new(temp, target)
