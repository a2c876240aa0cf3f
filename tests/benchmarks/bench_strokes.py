"""Brush-stroke speed on large layers: a 50-point stroke on a 2048x2048 edge and depth layer.

Prints the median time per added point and per whole stroke (begin + 50 points + end, including the
undo step), with a subscriber that reads each dirty rectangle as a canvas view would, for mouse strokes
(pressure 1), pen strokes (pressure changing along the stroke), soft edges and the widest sensible edge
brush. The baseline, measured in the same process, is what an update without dirty rectangles costs at
least: one copy of the whole layer per point. The last line times `Document.copy()` (the snapshot the
window hands to its saving thread) against copying the two rasters with NumPy.
Run: .venv/bin/python tests/benchmarks/bench_strokes.py [--size 2048] [--strokes 20]
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np

from studio.document import Document

FRAME_MS = 1000.0 / 60.0


def stroke_points(size: int, index: int, count: int = 50) -> list[tuple[float, float]]:
    """A wavy stroke of `count` points about 10 px apart, at a different place for each index."""
    rng = np.random.default_rng(index)
    x0, y0 = rng.uniform(0.1, 0.6, 2) * size
    return [(x0 + 10.0 * i, y0 + 40.0 * math.sin(i / 6.0)) for i in range(count)]


def pen_pressure(index: int) -> float:
    """A pen pressing harder and lighter along the stroke (0.2 .. 1.0)."""
    return 0.6 + 0.4 * math.sin(index / 5.0)


def run_strokes(layer, size: int, strokes: int, *, pen: bool = False, **brush) -> tuple[list[float], list[float]]:
    """Per-point and per-stroke times in milliseconds."""
    per_point, per_stroke = [], []
    for index in range(strokes):
        points = stroke_points(size, index)
        start = time.perf_counter()
        layer.begin_stroke(**brush)
        for i, (x, y) in enumerate(points):
            pressure = pen_pressure(i) if pen else 1.0
            t0 = time.perf_counter()
            layer.add_point(x, y, pressure=pressure)
            per_point.append((time.perf_counter() - t0) * 1000)
        layer.end_stroke()
        per_stroke.append((time.perf_counter() - start) * 1000)
    return per_point, per_stroke


def median_ms(action, repeats: int = 20) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        action()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--strokes", type=int, default=20)
    args = parser.parse_args()
    doc = Document(args.size, args.size)
    read = []
    doc.subscribe(lambda e: read.append(0 if e.region is None else doc.layer(e.layer).data[
        e.region[1] : e.region[3], e.region[0] : e.region[2]].sum()))  # fmt: skip
    widest = doc.edge.width_range[1]
    cases = [
        ("edge mouse", doc.edge, {}),
        ("edge pen", doc.edge, {"pen": True}),
        ("edge soft pen", doc.edge, {"pen": True, "hardness": 0.5}),
        (f"edge {widest}px pen", doc.edge, {"pen": True, "width": widest}),
        ("edge eraser", doc.edge, {"erase": True}),
        ("depth set", doc.depth, {"mode": "set", "value": 0.8}),
        ("depth set pen", doc.depth, {"mode": "set", "value": 0.8, "pen": True}),
        ("depth raise", doc.depth, {"mode": "raise", "strength": 0.2}),
        ("depth smooth", doc.depth, {"mode": "smooth"}),
    ]
    print(f"{args.size}x{args.size} document, {args.strokes} strokes of 50 points each; frame = {FRAME_MS:.1f} ms")
    print(f"edge width {doc.edge.default_width} px, depth radius {doc.depth.default_radius:.0f} px")
    for name, layer, brush in cases:
        run_strokes(layer, args.size, 2, **brush)  # warm-up
        per_point, per_stroke = run_strokes(layer, args.size, args.strokes, **brush)
        baseline = median_ms(layer.data.copy)
        point_ms = statistics.median(per_point)
        print(
            f"{name:14s} per point median {point_ms:7.3f} ms (p95 {np.percentile(per_point, 95):6.3f})"
            f" | per stroke median {statistics.median(per_stroke):7.2f} ms"
            f" | baseline full-layer copy {baseline:6.3f} ms/point, {baseline / point_ms:5.1f}x slower"
        )
    print(f"undo history holds {doc.history.nbytes / 2**20:.1f} MiB for {len(doc.history)} strokes")
    copy_ms = median_ms(doc.copy)
    rasters_ms = median_ms(lambda: (doc.edge.data.copy(), doc.depth.data.copy()))
    print(f"Document.copy() median {copy_ms:.2f} ms | baseline NumPy copy of both rasters {rasters_ms:.2f} ms")


if __name__ == "__main__":
    main()
