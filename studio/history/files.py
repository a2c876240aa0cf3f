"""Putting new files in place without ever replacing one, and cleaning up after killed runs.

Creating, importing and exporting build their result in a hidden temporary file next to the target,
`.NAME.PID.XXXXXXXX.studio-tmp` (PID: the building process, X: random hex), then:
- `link_new(temp, target)` hard-links it to the target name, which fails when the name is taken: a document
  that appeared meanwhile (created by another process, a writer with it open) is never replaced. On file
  systems without hard links the target is opened with O_EXCL and the bytes copied (the same guarantee, though
  a concurrent reader may then briefly see a partial file).
- `replace(temp, target)` moves it over the target (exports, whose target may be replaced by design).

`remove_leftovers(folder)` deletes temporary files of runs that were killed: only names of this pattern (and of
the older `.NAME.PID.tmp` / `.NAME.PID.TID.tmp` pattern for `.studio` and `.zip` targets), with their SQLite
`-journal`/`-wal`/`-shm` companions, whose PID is not a running process (and is not this process).
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
from pathlib import Path

TEMP_SUFFIX = ".studio-tmp"
_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[0-9a-f]{8}\.studio-tmp(?:-journal|-wal|-shm)?$")
_LEGACY = re.compile(r"^\.(?P<name>.+\.(?:studio|zip))\.(?P<pid>\d+)(?:\.\d+)?\.tmp(?:-journal|-wal|-shm)?$")


def temp_path(target: Path) -> Path:
    """A fresh hidden temporary name next to `target`."""
    return target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}{TEMP_SUFFIX}")


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def link_new(temp: Path, target: Path) -> bool:
    """Give the complete file `temp` the name `target` only if that name is free; True when done (then `temp`
    is gone), False when the name was taken (`temp` is left for the caller)."""
    _fsync(temp)
    try:
        os.link(temp, target)
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        try:
            fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as out, open(temp, "rb") as source:
            shutil.copyfileobj(source, out, 2**20)
            out.flush()
            os.fsync(out.fileno())
    temp.unlink()
    _fsync_dir(target.parent)
    return True


def replace(temp: Path, target: Path) -> None:
    """Move the complete file `temp` over `target` (for exports, which replace their target by design)."""
    _fsync(temp)
    os.replace(temp, target)
    _fsync_dir(target.parent)


def free_name(target: Path, label: str) -> list[Path]:
    """Candidate names next to `target` for a result that could not take its name: "doc (imported).studio",
    "doc (imported 2).studio", ..."""
    return [target.with_name(f"{target.stem} ({label}{'' if n == 1 else f' {n}'}){target.suffix}")
            for n in range(1, 1000)]


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another thread of ours may be building it
    if pid <= 0 or pid > 2**31:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's live process, or we cannot tell: keep the file
    return True


def remove_leftovers(folder: Path) -> list[Path]:
    """Delete this app's temporary files in `folder` whose building process is gone; the paths deleted."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP.match(entry.name) or _LEGACY.match(entry.name)
        if match is None or _running(int(match["pid"])):
            continue
        try:
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
        except OSError:
            continue
    return removed
