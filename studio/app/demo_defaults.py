"""Fast generation settings for demo mode, and why they are picked.

The demo models (`studio.engine.tiny.make_tiny`) are tiny random networks: they make noise whatever the size, so
the stock 512 x 512, 20 steps only make the designer wait (85 s for one image on a laptop CPU) for nothing more to
see. Demo mode switches to 256 x 256 and 8 steps, which is enough to try every button and watch the previews, and
says so once; settings the designer already changed are left alone.
"""

from __future__ import annotations

from pathlib import Path

from studio.app.generation_settings import GenerationSettings
from studio.engine.settings import ModelSettings

DEMO_WIDTH = 256
DEMO_HEIGHT = 256
DEMO_STEPS = 8
DEMO_REASON = (f"Demo mode: {DEMO_WIDTH} × {DEMO_HEIGHT} and {DEMO_STEPS} steps, so an image takes seconds — the tiny "
               "random demo models make noise at any size. Raise them when you use a real model.")

_STOCK = GenerationSettings()


def is_demo_model(settings: ModelSettings, name: str | None, demo_folder: Path) -> bool:
    """Whether model `name` in `settings` is the demo models built in `demo_folder`."""
    entry = settings.models.get(name) if name is not None else None
    return entry is not None and Path(entry.base) == Path(demo_folder)


def at_stock_speed(settings: GenerationSettings) -> bool:
    """Whether size and steps are still the stock defaults (nobody chose them)."""
    return (settings.width, settings.height, settings.steps) == (_STOCK.width, _STOCK.height, _STOCK.steps)


def demo_settings(settings: GenerationSettings, *, model: str) -> GenerationSettings:
    """`settings` on the demo `model` at the demo's fast size and steps."""
    fast = settings.copy()
    fast.model = model
    fast.width, fast.height, fast.steps = DEMO_WIDTH, DEMO_HEIGHT, DEMO_STEPS
    return fast
