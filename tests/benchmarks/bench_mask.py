"""Mask speed on a large document: the mask commands and building an inpaint request from it.

Each operation is one undo step on a 2048x2048 mask (the whole raster for fill, invert, grow, feather), so the
designer waits for it once per click; a 60 Hz frame is 16.7 ms. Prints the median of `--runs` runs of: a 64 px
mask stroke across the canvas, a mask fill by the reference picture's colour, invert, grow 8 px, feather 8 px,
and `with_mask` (the copies of picture and mask a Generate click makes).
Run: .venv/bin/python tests/benchmarks/bench_mask.py [--size 2048] [--runs 9]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from studio.app.inpaint_inputs import with_mask
from studio.document import Document
from studio.engine.request import GenerationRequest


def median_ms(action, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    size, runs = args.size, args.runs
    document = Document(size, size)
    picture = np.random.default_rng(0).integers(0, 256, (size, size, 3)).astype(np.uint8)
    picture[size // 10: size // 2, size // 8: size * 3 // 4] = (200, 30, 30)
    document.reference.set_image(picture)
    mask = document.mask
    rows = 0

    def stroke() -> None:
        nonlocal rows
        rows = (rows + 97) % (size - 64)
        mask.stroke([(32 + i * (size - 64) / 9, 32 + rows) for i in range(10)], width=64)

    figures = {
        "stroke 64 px across": stroke,
        "fill by reference colour": lambda: mask.fill_region(size * 0.3, size * 0.3, image=picture, tolerance=8),
        "invert": mask.invert,
        "grow 8 px": lambda: mask.grow(8),
        "feather 8 px": lambda: mask.feather(8),
        "with_mask (request)": lambda: with_mask(GenerationRequest(prompt="x"), document),
    }
    print(f"mask {size}x{size}, median of {runs} runs")
    for name, action in figures.items():
        print(f"  {name:<26} {median_ms(action, runs):7.1f} ms")


if __name__ == "__main__":
    main()
