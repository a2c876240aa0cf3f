"""Make docs/screenshot-1366x768.png and docs/screenshot-1920x1080.png: the window at a small laptop's and a
full-HD screen's size, with the sketch of `make_screenshot.py`, demo mode's fast settings and a first result.

Run from the repository root:

    QT_QPA_PLATFORM=offscreen PYTHONPATH=. .venv/bin/python docs/make_size_screenshots.py
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from make_screenshot import save_grab, sketched_window, wait_until  # noqa: E402

SIZES = ((1366, 768), (1920, 1080))


def main() -> None:
    for width, height in SIZES:
        with sketched_window(demo_models=True) as window:
            window.resize(width, height)
            panel = window.generate_panel
            settings = panel.settings()
            settings.prompt = "a cosy cottage at the edge of a forest, a hiker walking by, golden hour"
            settings.negative_prompt = "blurry, low quality"
            settings.seed, settings.batch_size = 42, 2
            panel.set_settings(settings)
            window.generation.generate()
            wait_until(lambda: not window.generation.running and len(window.gallery_panel.entries) == 2)
            window.gallery_panel.select(window.gallery_panel.entries[:1])
            window.view.set_tool("brush")
            save_grab(window, Path(__file__).with_name(f"screenshot-{width}x{height}.png"))


if __name__ == "__main__":
    main()
