"""A notice when the output's shape differs from the canvas's.

The control maps are drawn at the canvas size and fitted to the output size by the engine
(`studio.engine.control_images.fit_image`, "crop and resize" by default): a 768 x 512 result from a 512 x 512
canvas silently loses the top and bottom of every map. `aspect_notice` says so before the run, with the fix.
"""

from __future__ import annotations

from fractions import Fraction

TOLERANCE = 0.01  # relative difference of the width/height ratios below which the shapes count as equal


def ratio_text(width: int, height: int) -> str:
    """ "3:2", "1:1", or a decimal ratio for shapes without a short one ("1.41:1")."""
    fraction = Fraction(width, height)
    if fraction.numerator <= 32 and fraction.denominator <= 32:
        return f"{fraction.numerator}:{fraction.denominator}"
    return f"{width / height:.2f}:1"


def aspect_notice(*, canvas: tuple[int, int], output: tuple[int, int], crops: bool = True) -> str | None:
    """None when the output has the canvas's shape; else one sentence on what happens to the control maps
    (`crops`: the maps are cropped to fit; otherwise they are stretched or padded) and how to match."""
    (canvas_w, canvas_h), (out_w, out_h) = canvas, output
    canvas_ratio, out_ratio = canvas_w / canvas_h, out_w / out_h
    if abs(out_ratio - canvas_ratio) <= TOLERANCE * canvas_ratio:
        return None
    effect = "are cropped to fit" if crops else "are stretched or padded to fit"
    if out_ratio > canvas_ratio:
        lost = "top and bottom" if crops else "sides"
    else:
        lost = "left and right sides" if crops else "top and bottom"
    if crops:
        effect += f" (the {lost} of what you drew are left out)"
    else:
        effect += f" (at the {lost})"
    matching_height = max(8, round(out_w / canvas_ratio / 8) * 8)
    return (f"The output {out_w} × {out_h} ({ratio_text(out_w, out_h)}) has another shape than the canvas "
            f"{canvas_w} × {canvas_h} ({ratio_text(canvas_w, canvas_h)}): the control maps {effect}. "
            f"For the whole drawing use {out_w} × {matching_height}.")
