"""Make docs/screenshot.png: the window with a sketch, a pose, a depth gradient and a generated result.

The result comes from the tiny random demo models (so it is noise). Run from the repository root:

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_screenshot.py [--out docs/screenshot.png]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402


def wait_until(condition, timeout_s: float = 120.0) -> None:
    end = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > end:
            raise TimeoutError("the window did not get there in time")
        QApplication.processEvents()
        time.sleep(0.01)


def sketch(document) -> None:
    """A house with a tree and a path, traced as edges; a person beside it; depth from near to far."""
    w, h = document.width, document.height
    edge = document.edge
    lines = [
        [(0.18, 0.62), (0.18, 0.38), (0.34, 0.24), (0.50, 0.38), (0.50, 0.62), (0.18, 0.62)],
        [(0.26, 0.62), (0.26, 0.50), (0.32, 0.50), (0.32, 0.62)],
        [(0.38, 0.44), (0.46, 0.44), (0.46, 0.52), (0.38, 0.52), (0.38, 0.44)],
        [(0.0, 0.62), (1.0, 0.60)],
        [(0.30, 1.0), (0.36, 0.62)],
        [(0.48, 1.0), (0.38, 0.62)],
        [(0.84, 0.60), (0.84, 0.40)],
    ]
    for line in lines:
        edge.stroke([(x * w, y * h) for x, y in line], width=4)
    edge.stroke([(0.84 * w + 60 * np.cos(t), 0.33 * h + 48 * np.sin(t)) for t in np.linspace(0, 2 * np.pi, 40)],
                width=4)
    document.depth.linear_gradient((0, h), (0, 0.45 * h), start_value=0.95, end_value=0.15)
    person = document.pose.add_template("walking", center=(0.66 * w, 0.62 * h), height=0.5 * h)
    document.pose.add_hands(person)
    document.pose.add_face(person)


@contextmanager
def sketched_window(*, demo_models: bool = False) -> Iterator:
    """A shown 1600 x 1000 main window, dark theme, on a 768 x 768 document holding `sketch`, with settings and
    data in a temporary folder (and the tiny demo models installed when `demo_models`)."""
    import torch

    torch.set_num_threads(1)
    app = QApplication.instance() or QApplication([])
    from studio.document import Document
    from studio.app.paths import AppPaths
    from ui.dialogs.models_guide import install_demo_models
    from ui.shell.main_window import MainWindow
    from ui.shell.theme import apply_dark_theme

    apply_dark_theme(app)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        paths = AppPaths(model_settings=tmp / "models.json", data_dir=tmp / "data")
        if demo_models:
            install_demo_models(paths.demo_models, paths.model_settings)
        document = Document(768, 768)
        sketch(document)
        window = MainWindow(settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat), paths=paths,
                            document=document)
        window.resize(1600, 1000)
        window.show()
        try:
            yield window
        finally:
            window.files.modified = False
            window.close()


def save_grab(window, out: Path) -> None:
    """Fit the canvas, let the window settle and save a grab of it to `out`."""
    window.view.fit_to_window()
    for _ in range(20):
        QApplication.processEvents()
        time.sleep(0.02)
    out.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(out))
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description="Make the README screenshot.")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("screenshot.png"))
    args = parser.parse_args()
    with sketched_window(demo_models=True) as window:
        window.view.set_tool("pose")
        window.view.tools["pose"].select(0)
        panel = window.generate_panel
        settings = panel.settings()
        settings.prompt = "a cosy cottage at the edge of a forest, a hiker walking by, golden hour"
        settings.negative_prompt = "blurry, low quality"
        settings.width = settings.height = 256
        settings.steps, settings.seed, settings.batch_size = 8, 42, 2
        panel.set_settings(settings)
        window.generation.generate()
        wait_until(lambda: not window.generation.running and len(window.gallery_panel.entries) == 2)
        window.gallery_panel.select(window.gallery_panel.entries[:1])
        window.gallery_panel.set_rating(window.gallery_panel.entries[0], "starred")
        save_grab(window, args.out)


if __name__ == "__main__":
    main()
