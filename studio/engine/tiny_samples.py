"""Sample control maps next to the tiny models, so the README's `studio generate` example runs as written.

`write_samples(dir)` writes `dir/samples/sketch.png` (a white-on-black line drawing of a house and a tree, what an
edge layer exports) and `dir/samples/pose.png` (the "standing" template with hands and face, drawn as the OpenPose
annotator draws), both 512x512.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

SAMPLES_DIR = "samples"
SIZE = 512


def sketch_map(size: int = SIZE) -> np.ndarray:
    """A line drawing (HxWx3 uint8, white lines on black) of a house, a tree and the ground."""
    import cv2

    image = np.zeros((size, size, 3), dtype=np.uint8)
    s = size / 512
    white, width = (255, 255, 255), max(1, round(3 * s))

    def pt(x: float, y: float) -> tuple[int, int]:
        return round(x * s), round(y * s)

    cv2.line(image, pt(0, 430), pt(512, 430), white, width)
    cv2.rectangle(image, pt(90, 250), pt(290, 430), white, width)
    cv2.polylines(image, [np.array([pt(70, 260), pt(190, 150), pt(310, 260)])], False, white, width)
    cv2.rectangle(image, pt(170, 330), pt(215, 430), white, width)
    cv2.rectangle(image, pt(110, 280), pt(150, 320), white, width)
    cv2.rectangle(image, pt(235, 280), pt(275, 320), white, width)
    cv2.line(image, pt(400, 430), pt(400, 320), white, width)
    cv2.circle(image, pt(400, 270), round(60 * s), white, width)
    return image


def pose_map(size: int = SIZE) -> np.ndarray:
    """The standing template person with hands and face, rendered as an OpenPose control map."""
    from studio.document.pose_render import render_people
    from studio.document.pose_templates import make_person

    person = make_person("standing", center=(size / 2, size / 2), height=0.85 * size, hands=True, face=True)
    return render_people([person], canvas_size=(size, size), width=size, height=size)


def write_samples(directory: str | Path) -> dict[str, Path]:
    """Write `samples/sketch.png` and `samples/pose.png` under `directory`; returns {"sketch": ..., "pose": ...}."""
    from PIL import Image

    folder = Path(directory) / SAMPLES_DIR
    folder.mkdir(parents=True, exist_ok=True)
    written = {"sketch": folder / "sketch.png", "pose": folder / "pose.png"}
    Image.fromarray(sketch_map()).save(written["sketch"])
    Image.fromarray(pose_map()).save(written["pose"])
    return written
