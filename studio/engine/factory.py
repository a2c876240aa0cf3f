"""The one way the studio builds an `Engine`: the device chosen from the settings and the speed-ups for it.

The command line (`studio generate`) and the window (`studio.engine.service.EngineService`) both call
`make_engine`, so the window runs with the same Accelerator as the CLI.
"""

from __future__ import annotations

from typing import Any

from studio.engine.errors import SettingsError
from studio.engine.pipeline import Engine
from studio.engine.settings import ModelSettings

ACCEL_CHOICES = ("auto", "off")


def make_engine(settings: ModelSettings, accel: str | Any = "auto", **engine_options: Any) -> Engine:
    """An engine over `settings`. `accel` is "auto" (the recommended speed-ups for the chosen device, without
    torch.compile), "off" (the plain diffusers pipeline) or an optimizer object (e.g. an `Accelerator`);
    `engine_options` go to `Engine` (`preview_every`)."""
    from studio.engine.device import choose_device

    settings.validate()
    device = choose_device(settings.device, settings.dtype)
    if isinstance(accel, str):
        if accel not in ACCEL_CHOICES:
            raise SettingsError(f"Unknown accel choice {accel!r}; choose one of: {', '.join(ACCEL_CHOICES)}.")
        from studio.engine.accel_cli import accelerator_for

        optimize = accelerator_for(accel, device.device)
    else:
        optimize = accel
    return Engine(settings, device=device, optimize=optimize, **engine_options)
