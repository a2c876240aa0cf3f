"""Make docs/screenshot-inpaint.png: a picture on the reference layer, a mask painted over part of it (the
translucent overlay, with the mask tool's options), and the inpainted result in the gallery.

The result comes from the real engine on the tiny random demo models (`install_demo_models`, the same models as
DEMO MODE), so the repainted area is noise; everything outside the mask is the picture's own pixels. The picture
is drawn here (a house on a hill under a sky), its Canny edges are the ControlNet input. Run from the repository
root:

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_inpaint_screenshot.py [--out docs/screenshot-inpaint.png]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from make_screenshot import save_grab, wait_until  # noqa: E402


def picture(size: int) -> np.ndarray:
    """A house with a window and a door on a green hill, a sun and a blue sky (RGB)."""
    s = size / 512
    image = np.zeros((size, size, 3), np.uint8)
    sky = np.linspace(0, 1, size)[:, None]
    image[:] = (np.array([120, 170, 235]) * (1 - sky[:, :, None]) + np.array([205, 225, 250]) * sky[:, :, None]
                ).astype(np.uint8)
    cv2.circle(image, (int(410 * s), int(90 * s)), int(38 * s), (255, 214, 90), -1, cv2.LINE_AA)
    cv2.ellipse(image, (int(256 * s), int(560 * s)), (int(420 * s), int(220 * s)), 0, 180, 360, (86, 150, 70), -1,
                cv2.LINE_AA)
    image[int(440 * s):] = (86, 150, 70)
    wall = np.array([[150, 390], [150, 270], [250, 200], [350, 270], [350, 390]]) * s
    cv2.fillPoly(image, [wall.astype(np.int32)], (225, 205, 170), cv2.LINE_AA)
    roof = np.array([[135, 280], [250, 190], [365, 280]]) * s
    cv2.fillPoly(image, [roof.astype(np.int32)], (170, 60, 50), cv2.LINE_AA)
    cv2.rectangle(image, (int(180 * s), int(300 * s)), (int(230 * s), int(345 * s)), (90, 140, 200), -1)
    cv2.rectangle(image, (int(270 * s), int(320 * s)), (int(310 * s), int(390 * s)), (110, 70, 40), -1)
    return image


def main() -> None:
    parser = argparse.ArgumentParser(description="Make the inpainting screenshot.")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("screenshot-inpaint.png"))
    args = parser.parse_args()
    import torch

    torch.set_num_threads(2)
    app = QApplication.instance() or QApplication([])
    from studio.app.paths import AppPaths
    from studio.document import Document
    from studio.document.picture_import import edges_from_picture, set_reference_picture
    from ui.dialogs.models_guide import install_demo_models
    from ui.shell.main_window import MainWindow
    from ui.shell.theme import apply_dark_theme

    apply_dark_theme(app)
    with tempfile.TemporaryDirectory() as folder:
        tmp = Path(folder)
        paths = AppPaths(model_settings=tmp / "models.json", data_dir=tmp / "data")
        install_demo_models(paths.demo_models, paths.model_settings)
        size = 512
        document = Document(size, size)
        image = picture(size)
        set_reference_picture(document, image)
        document.reference.opacity = 1.0
        edges_from_picture(document, image, "canny", low=60, high=160)
        document.edge.opacity = 0.35
        # The area to repaint: the house's window and the wall around it, and a patch of sky.
        document.mask.stroke([(175, 300), (235, 300), (235, 345), (175, 345)], width=50)
        document.mask.fill_region(120, 60, image=image, tolerance=4)  # the sky's band at the top left
        document.mask.grow(4)
        window = MainWindow(settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat), paths=paths,
                            document=document)
        window.resize(1600, 1000)
        window.show()
        try:
            window.view.set_tool("mask_brush")
            panel = window.generate_panel
            settings = panel.settings()
            settings.prompt = "a round stained-glass window, evening sky with clouds"
            settings.negative_prompt = "blurry, low quality"
            settings.width = settings.height = size
            settings.steps, settings.seed, settings.batch_size = 8, 42, 1
            panel.set_settings(settings)
            assert window.generation.generate(), panel.message_bar.text()
            wait_until(lambda: not window.generation.running and len(window.gallery_panel.entries) == 1,
                       timeout_s=600)
            entry = window.gallery_panel.entries[0]
            outside = document.mask.data <= 127
            assert entry.request.is_inpaint and np.array_equal(entry.image[outside], image[outside])
            window.gallery_panel.select([entry])
            save_grab(window, args.out)
        finally:
            window.files.modified = False
            window.close()


if __name__ == "__main__":
    main()
