"""Edge layer strokes and edge extraction (compared with OpenCV directly)."""

import cv2
import numpy as np
import pytest

from studio.document import Document, DocumentError
from studio.document.edge_detect import canny_edges, detect_edges, scribble_edges
from studio.document.edges import default_edge_width, edge_width_range
from studio.document.picture_import import edges_from_picture


def _photo(h=96, w=128, seed=0):
    rng = np.random.default_rng(seed)
    image = np.full((h, w, 3), 200, np.uint8)
    cv2.rectangle(image, (20, 20), (90, 70), (30, 60, 90), -1)
    cv2.circle(image, (100, 30), 15, (250, 10, 10), -1)
    cv2.line(image, (5, 90), (120, 60), (0, 0, 0), 1)
    noise = rng.integers(-8, 9, image.shape)
    return np.clip(image.astype(int) + noise, 0, 255).astype(np.uint8)


def test_brush_widths_scale_with_document_size():
    assert default_edge_width(512, 512) == 4 and edge_width_range(512, 512) == (1, 24)
    assert default_edge_width(2048, 1024) == 8 and edge_width_range(1024, 2048) == (2, 48)
    assert Document(1024, 1024).edge.default_width == 8


def test_stroke_pixels_equal_the_opencv_polyline():
    doc = Document(128, 96)
    points = [(10, 10), (60, 40), (100, 20), (120, 90)]
    doc.edge.stroke(points, width=5)
    expected = np.zeros((96, 128), np.uint8)
    for a, b in zip(points, points[1:]):
        cv2.line(expected, a, b, 255, 5, cv2.LINE_8)
    np.testing.assert_array_equal(doc.edge.data, expected)
    assert set(np.unique(doc.edge.data)) == {0, 255}  # hard strokes: pure white on black


def test_eraser_line_clear_invert_and_undo():
    doc = Document(64, 64)
    doc.edge.draw_line((0, 32), (63, 32), width=7)
    drawn = doc.edge.data.copy()
    doc.edge.stroke([(32, 0), (32, 63)], width=3, erase=True)
    assert doc.edge.data[32, 32] == 0 and doc.edge.data[32, 10] == 255
    doc.edge.invert()
    assert doc.edge.data[0, 0] == 255 and doc.edge.data[32, 10] == 0
    doc.edge.clear()
    assert doc.edge.data.max() == 0
    for _ in range(3):
        doc.history.undo()
    np.testing.assert_array_equal(doc.edge.data, drawn)
    assert doc.history.undo_label == "Draw edges"


def test_antialiased_stroke_has_soft_edges():
    doc = Document(64, 64)
    doc.edge.stroke([(5, 5), (60, 40)], width=4, antialias=True)
    values = np.unique(doc.edge.data)
    assert values.min() == 0 and values.max() == 255 and len(values) > 5


def test_single_click_makes_a_dot_and_offcanvas_strokes_are_clipped():
    doc = Document(64, 64)
    doc.edge.stroke([(20, 20)], width=6)
    assert doc.edge.data[20, 20] == 255 and doc.edge.data[20, 30] == 0
    doc.edge.stroke([(-100, -100), (-50, -60)], width=3)  # entirely outside: no change, no step
    assert len(doc.history) == 1
    doc.edge.stroke([(-20, 10), (80, 10)], width=1)
    assert (doc.edge.data[10] == 255).all()


def test_stroke_argument_errors():
    doc = Document(64, 64)
    with pytest.raises(DocumentError):
        doc.edge.add_point(1, 1)
    with pytest.raises(DocumentError):
        doc.edge.begin_stroke(width=0)
    doc.edge.begin_stroke()
    with pytest.raises(DocumentError):
        doc.edge.add_point(float("nan"), 1)
    doc.edge.end_stroke()
    with pytest.raises(DocumentError):
        doc.edge.set_edges(np.zeros((64, 64), np.float32))
    with pytest.raises(DocumentError):
        doc.edge.set_edges(np.zeros((60, 64), np.uint8))


@pytest.mark.parametrize("low, high", [(100, 200), (50, 120), (0, 0), (10.5, 300)])
def test_canny_equals_opencv(low, high):
    image = _photo()
    np.testing.assert_array_equal(canny_edges(image, low=low, high=high), cv2.Canny(image, low, high))


def test_scribble_equals_the_documented_opencv_steps():
    image = _photo(seed=3)
    pixels = image.astype(np.float32)
    diff = cv2.GaussianBlur(pixels, (0, 0), 5.0) - cv2.GaussianBlur(pixels, (0, 0), 0.5)
    lines = np.where(diff.min(axis=2) > 16.0, 255, 0).astype(np.uint8)
    thick = cv2.dilate(lines, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
    np.testing.assert_array_equal(scribble_edges(image, thickness=0), lines)
    np.testing.assert_array_equal(scribble_edges(image, thickness=2), thick)
    assert lines.max() == 255  # the thin black line is found


def test_edge_extraction_rejects_bad_arguments():
    image = _photo()
    with pytest.raises(DocumentError):
        canny_edges(image, low=200, high=100)
    with pytest.raises(DocumentError):
        canny_edges(image, low=float("nan"))
    with pytest.raises(DocumentError):
        canny_edges(image[:, :, 0])
    with pytest.raises(DocumentError):
        scribble_edges(image, fine_sigma=5, coarse_sigma=1)
    with pytest.raises(DocumentError):
        detect_edges(image, "hed")


def test_edges_from_picture_fills_layer_as_one_step():
    doc = Document(128, 96)
    image = _photo()
    edges_from_picture(doc, image, "canny", low=50, high=150)
    np.testing.assert_array_equal(doc.edge.data, cv2.Canny(image, 50, 150))
    assert len(doc.history) == 1
