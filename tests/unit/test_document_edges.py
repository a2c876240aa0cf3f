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


def _samples(shape):
    """Where the stroke renderer samples each pixel: its centre, a hair up and left (ties take one side)."""
    h, w = shape
    return np.arange(w)[None, :] + 0.5 - 1 / 1024, np.arange(h)[:, None] + 0.5 - 1 / 1024


def _under(points, shape):
    """The pixels under the given points (a hard stroke always covers them)."""
    mask = np.zeros(shape, bool)
    for x, y, *_ in points:
        if 0 <= x < shape[1] and 0 <= y < shape[0]:
            mask[int(np.floor(y)), int(np.floor(x))] = True
    return mask


def _within(points, radius, shape):
    """Pixels whose sample lies within `radius` of the polyline (point-to-segment distance, float64)."""
    xs, ys = _samples(shape)
    inside = np.zeros(shape, bool)
    for (ax, ay), (bx, by) in zip(points, points[1:] or points):
        dx, dy = bx - ax, by - ay
        t = np.clip(((xs - ax) * dx + (ys - ay) * dy) / max(dx * dx + dy * dy, 1e-12), 0, 1)
        inside |= (xs - ax - t * dx) ** 2 + (ys - ay - t * dy) ** 2 <= radius**2
    return inside


def _swept_discs(a, b, r0, r1, shape, scale, samples=1500):
    """Union of the discs a brush passes through from a (radius r0) to b (r1), radii times `scale`."""
    xs, ys = _samples(shape)
    union = np.zeros(shape, bool)
    for t in np.linspace(0, 1, samples):
        cx, cy, r = a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1]), (r0 + t * (r1 - r0)) * scale
        union |= (xs - cx) ** 2 + (ys - cy) ** 2 <= r * r
    return union


def test_hard_stroke_covers_exactly_the_pixels_within_half_its_width():
    doc = Document(128, 96)
    points = [(10.3, 10.8), (60, 40.5), (100.2, 20), (120, 90)]
    doc.edge.stroke(points, width=5)
    expected = _within(points, 2.5, (96, 128)) | _under(points, (96, 128))
    np.testing.assert_array_equal(doc.edge.data, np.where(expected, 255, 0).astype(np.uint8))
    assert set(np.unique(doc.edge.data)) == {0, 255}  # hard strokes: pure white on black


@pytest.mark.parametrize("width", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("offset", [0.0, 0.5, 0.25])
def test_whole_widths_cover_that_many_rows_and_columns(width, offset):
    doc = Document(64, 64)
    doc.edge.draw_line((5, 20 + offset), (60, 20 + offset), width=width)
    doc.edge.draw_line((40 + offset, 30), (40 + offset, 60), width=width)
    assert np.count_nonzero(doc.edge.data[:, 15]) == width
    assert np.count_nonzero(doc.edge.data[50]) == width


def test_pressure_tapers_the_stroke_smoothly_as_one_undo_step():
    doc = Document(256, 64)
    events = []
    doc.subscribe(events.append)
    doc.edge.begin_stroke(width=20)
    for i in range(11):
        doc.edge.add_point(20 + 20 * i, 32, pressure=1.0 - 0.08 * i)  # 20 px wide down to 4 px
    doc.edge.end_stroke()
    assert len(doc.history) == 1
    widths = [np.count_nonzero(doc.edge.data[:, x]) for x in range(30, 221, 10)]
    assert widths[0] in (19, 20, 21) and widths[-1] in (4, 5)
    assert all(a >= b for a, b in zip(widths, widths[1:]))  # no steps back up
    assert max(a - b for a, b in zip(widths, widths[1:])) <= 2  # linear between points, no jumps
    assert all((e.region[2] - e.region[0]) <= 20 + 2 * 12 + 2 for e in events)  # each event: one segment
    doc.history.undo()
    assert not doc.edge.data.any()


@pytest.mark.parametrize("seed", range(6))
def test_tapered_segment_is_the_swept_union_of_discs(seed):
    rng = np.random.default_rng(seed)
    a, b = tuple(rng.uniform(20, 44, 2)), tuple(rng.uniform(20, 44, 2))
    p0, p1 = rng.uniform(0.05, 1.0, 2)
    if seed == 0:
        b = (a[0] + 1.5, a[1] - 1.0)  # one end disc inside the other
    doc = Document(64, 64)
    doc.edge.stroke([(*a, p0), (*b, p1)], width=24)
    r0, r1 = max(1.0, 24 * p0) / 2, max(1.0, 24 * p1) / 2
    drawn = doc.edge.data == 255
    under = _under([a, b], (64, 64))
    assert not (_swept_discs(a, b, r0, r1, (64, 64), 0.999) & ~drawn).any()
    assert not (drawn & ~_swept_discs(a, b, r0, r1, (64, 64), 1.001) & ~under).any()


def test_light_pressure_keeps_one_pixel_and_a_click_is_a_dot():
    doc = Document(64, 64)
    doc.edge.stroke([(5, 30, 0.0), (60, 30, 0.0)], width=12)
    assert np.count_nonzero(doc.edge.data[:, 30]) == 1
    doc.edge.stroke([(20, 10, 0.0)], width=12)  # a 1 px dot on a pixel corner still marks a pixel
    assert doc.edge.data[10, 20] == 255 and np.count_nonzero(doc.edge.data[:20]) == 1


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


def test_soft_strokes_feather_from_hardness_to_full_radius():
    doc = Document(96, 64)
    doc.edge.stroke([(10, 20), (86, 20)], width=16, hardness=0.5)
    column = doc.edge.data[:, 48].astype(int)
    assert (column[16:24] == 255).all()  # pixel centres within hardness * radius = 4 px of the centre line
    falloff = column[23:28]  # centres 3.5 .. 7.5 px away
    assert all(a > b for a, b in zip(falloff, falloff[1:])) and falloff[-1] > 0
    assert column[28:].max() == 0 and column[:12].max() == 0  # nothing beyond the radius
    doc.edge.stroke([(10, 50.3), (86, 50.3)], width=4, hardness=0.99)  # nearly hard: still anti-aliased
    values = np.unique(doc.edge.data[40:60, 48])
    assert values.max() == 255 and len(values) >= 3
    doc.edge.stroke([(48, 0), (48, 63)], width=8, hardness=0.0, erase=True)  # soft eraser
    row = doc.edge.data[20, 40:57].astype(int)
    assert row[8] < 16 and row[8] < row[6] < row[5] < 255 and row[0] == 255  # full strength only at the centre


def test_overlapping_parts_of_one_stroke_do_not_pile_up():
    doc = Document(96, 64)
    doc.edge.stroke([(10, 32), (80, 32), (10, 32), (80, 32)], width=10, hardness=0.3)
    once = Document(96, 64)
    once.edge.stroke([(10, 32), (80, 32)], width=10, hardness=0.3)
    np.testing.assert_array_equal(doc.edge.data, once.edge.data)


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
    with pytest.raises(DocumentError):
        doc.edge.begin_stroke(width=float("inf"))
    with pytest.raises(DocumentError):
        doc.edge.begin_stroke(hardness=1.5)
    with pytest.raises(DocumentError):
        doc.edge.begin_stroke(width="wide")
    doc.edge.begin_stroke()
    with pytest.raises(DocumentError):
        doc.edge.add_point(float("nan"), 1)
    for pressure in (-0.1, 1.5, float("nan"), "hard"):
        with pytest.raises(DocumentError):
            doc.edge.add_point(1, 1, pressure=pressure)
    doc.edge.end_stroke()
    assert len(doc.history) == 0
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
