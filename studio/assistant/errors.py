"""Errors of the assistant area that reach the user as one clear sentence."""

from studio.errors import StudioError


class AssistantError(StudioError):
    """A problem with the assistant model, its input files or its training data."""
