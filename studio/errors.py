"""Errors that reach the user as one clear sentence."""


class StudioError(Exception):
    """Base class for errors the user should read (bad input, missing model, out of memory...)."""
