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
