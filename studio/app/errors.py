"""Errors as the designer reads them: one sentence, plus what to do about it (the one `describe_error`)."""

from __future__ import annotations

from studio.engine.errors import DeviceOutOfMemoryError, ModelError, SettingsError
from studio.errors import StudioError

NO_MODEL_HELP = (
    "No model is set up yet. Open Generate ▸ Models… to point the studio at a diffusers folder, a .safetensors "
    "file or a cached Hugging Face id, or start the DEMO MODE there to try everything with tiny models."
)


def describe_error(error: BaseException, *, task: str = "Generation") -> str:
    """One sentence for the message bar. Studio errors say what went wrong themselves (model and settings
    errors add where to fix them); a disk error is shown as the system words it; anything else is a bug, shown
    with its type and the reassurance that `task` changed nothing."""
    if isinstance(error, DeviceOutOfMemoryError):
        return str(error)
    if isinstance(error, (ModelError, SettingsError)):
        return f"{error} Check the model in Generate ▸ Models…."
    if isinstance(error, (StudioError, OSError)):
        return str(error)
    return f"{task} failed unexpectedly ({type(error).__name__}: {error}). The document is unchanged."
