"""One advisory lock per open document, so a second window knows who holds it and opens it read-only.

The lock is the file `.NAME.lock` next to the document, locked with `flock` (released by the kernel when its
holder exits or is killed, so a crash leaves no stale lock; the file itself may stay and is reused). While held
it says who holds it: process id, host, user, program and since when. SQLite's own locking still keeps every
write consistent; this lock is about people: two windows editing one document would each show a view the other
silently outdates.

`HistoryStore.open(path, lock=True)` takes it; when another process (or another window of this one) holds it,
the store opens read-only and `store.held_by` says who holds it. Short command-line writes (`studio history
feedback`) do not take it: they append one event, which the window's writer sees on its next write.
On systems without `fcntl` the lock is a file created with O_EXCL whose holder's process id is checked.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from studio.history.errors import HistoryError
from studio.safe_json import UntrustedJsonError, load_untrusted_json

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None


@dataclass(frozen=True)
class Holder:
    """Who holds a document open for writing."""

    pid: int
    host: str
    user: str
    program: str
    since: float

    def sentence(self, path: Path) -> str:
        when = datetime.fromtimestamp(self.since).strftime("%Y-%m-%d %H:%M")
        return (f"{path.name} is open for editing by {self.user} in {self.program} (process {self.pid} on "
                f"{self.host}, since {when}); it was opened read-only.")


class DocumentInUseError(HistoryError):
    """Another process (or window) holds the document's lock."""

    def __init__(self, path: Path, holder: Holder | None) -> None:
        self.path, self.holder = path, holder
        text = holder.sentence(path).replace("; it was opened read-only.", ".") if holder else (
            f"{path.name} is open for editing elsewhere (its holder could not be read).")
        super().__init__(text)


def lock_path(document: Path) -> Path:
    return document.with_name(f".{document.name}.lock")


def _me() -> dict:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return {"pid": os.getpid(), "host": socket.gethostname(), "user": user,
            "program": Path(sys.argv[0]).name or "python", "since": time.time()}


def _parse(data: bytes) -> Holder | None:
    try:
        value = load_untrusted_json(data, source="the lock file", max_bytes=4096)
        return Holder(int(value["pid"]), str(value["host"]), str(value["user"]), str(value["program"]),
                      float(value["since"]))
    except (UntrustedJsonError, KeyError, TypeError, ValueError):
        return None


class DocumentLock:
    """A held lock; `release()` (or the process ending) frees it."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path, self._fd = path, fd

    @classmethod
    def acquire(cls, document: Path) -> DocumentLock:
        """Take the lock of `document`; DocumentInUseError (with the holder) when someone else has it."""
        path = lock_path(document)
        if fcntl is None:
            return cls._acquire_exclusive(document, path)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:
            raise HistoryError(f"The lock file {path} cannot be opened ({exc.strerror}).") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _parse(os.pread(fd, 4096, 0))
            os.close(fd)
            raise DocumentInUseError(document, holder) from None
        data = json.dumps(_me()).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        return cls(path, fd)

    @classmethod
    def _acquire_exclusive(cls, document: Path, path: Path) -> DocumentLock:
        for _ in range(2):
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o666)
            except FileExistsError:
                holder = _parse(path.read_bytes()) if path.exists() else None
                if holder is not None and holder.host == socket.gethostname() and not _alive(holder.pid):
                    path.unlink(missing_ok=True)  # its holder was killed
                    continue
                raise DocumentInUseError(document, holder) from None
            os.write(fd, json.dumps(_me()).encode())
            return cls(path, fd)
        raise DocumentInUseError(document, None)

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        if fcntl is None:
            os.close(fd)
            self.path.unlink(missing_ok=True)
            return
        os.ftruncate(fd, 0)  # the file stays (unlinking it would race with a process that just opened it)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def holder_of(document: Path) -> Holder | None:
    """Who holds the lock of `document` now, or None when nobody does."""
    try:
        lock = DocumentLock.acquire(document)
    except DocumentInUseError as exc:
        return exc.holder or Holder(0, "?", "?", "?", time.time())
    except HistoryError:
        return None
    lock.release()
    return None
