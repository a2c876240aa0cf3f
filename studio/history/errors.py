"""Errors of the history store, each one clear sentence for the user."""

from studio.errors import StudioError


class HistoryError(StudioError):
    """A history operation failed: a malformed event, an unknown revision, an unreadable blob."""


class NotAStudioFileError(HistoryError):
    """The file is not a ControlNet Studio document (random bytes, another SQLite database)."""


class NewerSchemaError(HistoryError):
    """The document was written by a newer version of the studio; this version cannot read it safely."""


class ImportRejectedError(HistoryError):
    """A history archive was refused: unsafe paths, too large, bad hashes or inconsistent events."""


class DiskFullError(HistoryError):
    """An edit could not be saved because the disk is full. Every edit acknowledged before it is kept; once space
    is freed, editing goes on. `repeat` is True for the further failures of the same episode (until a save
    succeeds again), so a window reports the full disk once."""

    def __init__(self, message: str, *, repeat: bool = False) -> None:
        super().__init__(message)
        self.repeat = repeat
