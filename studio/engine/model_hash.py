"""Model identity as A1111 and Civitai see it: `Model hash` = AutoV2, the first 10 hex digits of the file's sha256.

Hashing a 2-7 GB checkpoint takes seconds, so each file is hashed once and the digest kept in a small JSON cache,
`<user cache dir>/model-hashes.json` (`$STUDIO_CACHE_DIR` when set), keyed by the file's absolute path, size and
modification time (ns). A file whose size or mtime changed is hashed again; `touch` therefore costs one re-read
and gives the same hash, because the hash is of the bytes. A diffusers folder gets a stable hash of its weight
files: sha256 over the lines "relative/path\\0<file sha256>\\n" of its .safetensors/.bin/.ckpt/.pt/.pth files,
sorted by path, leaving out the bundled `controlnets/` and `loras/` folders, so copying, touching or adding a
README keeps it. `ModelHasher` hashes in a background thread (one file at a time, so disks are not thrashed)
and calls back when done; `wait` joins it.

    hasher = default_hasher()
    hasher.start(path, on_done=lambda path, sha256: ...)   # returns at once
    autov2(hasher.wait(path))                               # "6ce0161689"

A cache file that is unreadable (corrupt, hostile, from another version) is ignored and rewritten; concurrent
writers (the window and the CLI) merge with what is on disk and replace it atomically. Digests are also kept in
memory for the process, so a read-only cache folder costs one hash per file per run, not one per generation.
Entries of files that no longer exist are dropped when the cache is written.

`hashed_identity(identity, hasher, wait=...)` adds "sha256" and "model_hash" (AutoV2) to a model's identity
(`LocatedModel.identity()`): the engine waits for them after a run (hashing overlaps loading and denoising),
live drafts take them only when already known.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path

from studio.engine.errors import ModelError
from studio.engine.sources import CONTROLNETS_DIR, PICKLE_SUFFIXES, SAFETENSORS_SUFFIXES

CACHE_NAME = "model-hashes.json"
CACHE_VERSION = 1
WEIGHT_SUFFIXES = SAFETENSORS_SUFFIXES + PICKLE_SUFFIXES
FOLDER_SKIP = (CONTROLNETS_DIR, "loras")
_CHUNK = 8 * 2**20
_MAX_CACHE_BYTES = 16 * 2**20
_MAX_ENTRIES = 20_000
_lock = threading.Lock()
_memory: dict[tuple[str, int, int], str] = {}


def autov2(sha256: str) -> str:
    """A1111's AutoV2 `Model hash`: the first 10 hex digits of the sha256."""
    return sha256[:10]


def hash_cache_path() -> Path:
    """Where the digests are kept."""
    from studio.engine.compile_cache import user_cache_dir

    return user_cache_dir() / CACHE_NAME


def _stat_key(path: Path) -> tuple[str, int, int]:
    stat = path.stat()
    return str(path.resolve()), stat.st_size, stat.st_mtime_ns


def _read_cache(cache: Path) -> dict[str, dict]:
    from studio.safe_json import UntrustedJsonError, load_untrusted_json

    try:
        if cache.stat().st_size > _MAX_CACHE_BYTES:
            return {}
        data = load_untrusted_json(cache.read_bytes(), source=str(cache))
    except (OSError, UntrustedJsonError):
        return {}
    if not isinstance(data, dict) or data.get("version") != CACHE_VERSION or not isinstance(data.get("files"), dict):
        return {}
    return {k: v for k, v in data["files"].items() if isinstance(v, dict) and isinstance(v.get("sha256"), str)
            and _is_sha256(v["sha256"]) and all(type(v.get(f)) is int for f in ("size", "mtime_ns"))}


def _write_cache(cache: Path, additions: dict[str, dict]) -> None:
    """Merge `additions` into the cache on disk and replace it atomically; a read-only place is not an error
    (the hash is then computed again next time)."""
    import json

    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        files = {name: entry for name, entry in _read_cache(cache).items() if os.path.exists(name)}
        files.update(additions)
        if len(files) > _MAX_ENTRIES:  # keep the newest entries
            files = dict(sorted(files.items(), key=lambda item: item[1].get("mtime_ns", 0))[-_MAX_ENTRIES:])
        handle, temp = tempfile.mkstemp(dir=cache.parent, prefix=".model-hashes-", suffix=".json")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump({"version": CACHE_VERSION, "files": files}, out, indent=0, sort_keys=True)
        os.replace(temp, cache)
    except OSError:
        pass


def cached_sha256(path: str | Path) -> str | None:
    """The cached sha256 of a file or folder when its size and mtime still match, else None (reads no weights)."""
    path = Path(path)
    try:
        if path.is_dir():
            return _folder_digest(path, _cached_file_digest)
        return _cached_file_digest(path)
    except OSError:
        return None


def _cached_file_digest(file: Path) -> str | None:
    key = _stat_key(file)
    if key in _memory:
        return _memory[key]
    name, size, mtime = key
    entry = _read_cache(hash_cache_path()).get(name)
    if entry is not None and entry["size"] == size and entry["mtime_ns"] == mtime:
        _memory[key] = entry["sha256"]
        return entry["sha256"]
    return None


def _is_sha256(value: str) -> bool:
    return len(value) == 64 and all(c in "0123456789abcdef" for c in value)


def _file_digest(file: Path) -> str:
    cached = _cached_file_digest(file)
    if cached is not None:
        return cached
    name, size, mtime = _stat_key(file)
    digest = hashlib.sha256()
    with open(file, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    value = digest.hexdigest()
    if _stat_key(file) == (name, size, mtime):  # unchanged while we read it
        _memory[(name, size, mtime)] = value
        with _lock:
            _write_cache(hash_cache_path(), {name: {"size": size, "mtime_ns": mtime, "sha256": value}})
    return value


def weight_files(folder: Path) -> list[Path]:
    """The weight files a folder's hash covers, sorted by relative path."""
    return sorted((p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in WEIGHT_SUFFIXES
                   and p.relative_to(folder).parts[0] not in FOLDER_SKIP),
                  key=lambda p: p.relative_to(folder).as_posix())


def _folder_digest(folder: Path, file_digest: Callable[[Path], str | None]) -> str | None:
    files = weight_files(folder)
    if not files:
        raise ModelError(f"{folder} holds no weight files (.safetensors, .bin, .ckpt, .pt, .pth) to hash.")
    digest = hashlib.sha256()
    for file in files:
        value = file_digest(file)
        if value is None:
            return None
        digest.update(f"{file.relative_to(folder).as_posix()}\0{value}\n".encode())
    return digest.hexdigest()


def model_sha256(path: str | Path) -> str:
    """The sha256 of a model file, or the stable hash of a model folder's weight files (cached; may be slow)."""
    path = Path(path)
    try:
        if path.is_dir():
            value = _folder_digest(path, _file_digest)
            assert value is not None
            return value
        return _file_digest(path)
    except OSError as exc:
        raise ModelError(f"Cannot read {path} to hash it ({exc}).") from exc


HashCallback = Callable[[Path, "str | None"], None]


class ModelHasher:
    """Hashes models in one background thread, each path once per process; `wait` gives the digest."""

    def __init__(self) -> None:
        self._done: dict[str, str | None] = {}
        self._errors: dict[str, ModelError] = {}
        self._events: dict[str, threading.Event] = {}
        self._queue: list[tuple[Path, HashCallback | None]] = []
        self._guard = threading.Lock()
        self._worker: threading.Thread | None = None

    def start(self, path: str | Path, *, on_done: HashCallback | None = None) -> None:
        """Queue `path` for hashing (no-op when known: `on_done` is then called at once, in this thread)."""
        path = Path(path)
        key = str(path.resolve())
        with self._guard:
            if key in self._events and self._events[key].is_set() and self._fresh(path, key):
                known = self._done.get(key)
            else:
                if key not in self._events or self._events[key].is_set():
                    self._events[key] = threading.Event()
                    self._done.pop(key, None)
                self._queue.append((path, on_done))
                if self._worker is None or not self._worker.is_alive():
                    self._worker = threading.Thread(target=self._work, name="model-hasher", daemon=True)
                    self._worker.start()
                return
        if on_done is not None:
            on_done(path, known)

    def _fresh(self, path: Path, key: str) -> bool:
        """True when the stored result still belongs to the file as it is now."""
        return key in self._errors or cached_sha256(path) == self._done.get(key)

    def _work(self) -> None:
        while True:
            with self._guard:
                if not self._queue:
                    self._worker = None
                    return
                path, on_done = self._queue.pop(0)
            key = str(path.resolve())
            value: str | None = None
            try:
                value = model_sha256(path)
                self._errors.pop(key, None)
            except ModelError as exc:
                self._errors[key] = exc
            self._done[key] = value
            self._events[key].set()
            if on_done is not None:
                on_done(path, value)

    def peek(self, path: str | Path) -> str | None:
        """The sha256 of `path` if it is known now (cached or hashed this run); never waits. Starts hashing
        otherwise, so a later call may know it."""
        path = Path(path)
        try:
            known = cached_sha256(path)
        except ModelError:
            return None
        if known is None:
            self.start(path)
        return known

    def wait(self, path: str | Path, timeout: float | None = None) -> str | None:
        """The sha256 of `path` (started if needed), None on timeout; raises the `ModelError` hashing met."""
        path = Path(path)
        key = str(path.resolve())
        self.start(path)
        if not self._events[key].wait(timeout):
            return None
        if key in self._errors:
            raise self._errors[key]
        return self._done.get(key)


_default: ModelHasher | None = None


def default_hasher() -> ModelHasher:
    """The process's shared hasher (the engine's, the window's)."""
    global _default
    with _lock:
        if _default is None:
            _default = ModelHasher()
        return _default


def hashed_identity(identity: dict, hasher: ModelHasher, *, wait: bool) -> dict:
    """`identity` with "sha256" and "model_hash" (AutoV2) added, both None when the digest is not known (not
    waited for, or the files could not be read)."""
    try:
        value = hasher.wait(identity["path"]) if wait else hasher.peek(identity["path"])
    except ModelError:
        value = None
    return {**identity, "sha256": value, "model_hash": autov2(value) if value else None}
