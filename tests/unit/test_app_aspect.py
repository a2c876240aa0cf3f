"""The notice when the output's shape differs from the canvas's."""

from __future__ import annotations

from studio.app.aspect import aspect_notice, ratio_text


def test_same_shape_needs_no_notice():
    assert aspect_notice(canvas=(512, 512), output=(768, 768)) is None
    assert aspect_notice(canvas=(1024, 768), output=(512, 384)) is None
    assert aspect_notice(canvas=(1000, 1000), output=(1000, 1008)) is None  # within rounding to 8 px


def test_wider_output_says_the_maps_are_cropped_and_how_to_match():
    text = aspect_notice(canvas=(512, 512), output=(768, 512))
    assert "768 × 512 (3:2)" in text and "512 × 512 (1:1)" in text
    assert "cropped" in text and "top and bottom" in text and "768 × 768" in text
    taller = aspect_notice(canvas=(512, 512), output=(512, 768), crops=False)
    assert "stretched or padded" in taller and "512 × 512" in taller.split("use ")[1]


def test_ratio_text():
    assert ratio_text(1920, 1080) == "16:9" and ratio_text(1000, 707) == "1.41:1"
