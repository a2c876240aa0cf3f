"""Errors of the generation engine, each one clear sentence for the user."""

from studio.errors import StudioError


class EngineError(StudioError):
    """Base class for errors raised by the generation engine."""


class RequestError(EngineError):
    """A generation request is malformed or has values out of range."""


class ModelError(EngineError):
    """A model is missing, unreadable, refused (pickle) or does not fit the others."""


class SettingsError(EngineError):
    """The model settings file cannot be read or holds bad entries."""


class GenerationError(EngineError):
    """A generation failed while running."""


class DeviceOutOfMemoryError(GenerationError):
    """The accelerator ran out of memory; the engine freed its cache and stays usable."""
