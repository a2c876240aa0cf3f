"""Training errors: one sentence each, shown by the command line and the window."""

from __future__ import annotations

from studio.errors import StudioError


class TrainError(StudioError):
    """Training cannot start or go on (bad data, bad settings, a model that does not fit)."""
