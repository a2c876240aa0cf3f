"""Document, layers, change events and the undo history."""

import numpy as np
import pytest

from studio.document import ChangeEvent, Document, DocumentError, LayerLockedError
from studio.document.history import CompoundStep, UndoHistory, UndoStep
from studio.document.serialize import document_to_files
from studio.errors import StudioError


def test_document_has_ordered_layers_with_properties():
    doc = Document(320, 200)
    assert doc.size == (320, 200)
    assert [layer.name for layer in doc.layers] == ["reference", "edge", "depth", "pose"]
    assert doc.edge.data.shape == (200, 320) and doc.edge.data.dtype == np.uint8
    assert doc.depth.data.dtype == np.float32
    assert doc.reference.image is None
    for layer in doc.layers:
        assert layer.visible and not layer.locked


@pytest.mark.parametrize("size", [(0, 10), (10, -1), (9000, 10), (8192, 8193), ("a", 3)])
def test_bad_document_size_is_refused(size):
    with pytest.raises(DocumentError):
        Document(*size)


def test_property_changes_emit_events_and_validate():
    doc = Document(64, 64)
    events = []
    unsubscribe = doc.subscribe(events.append)
    doc.depth.opacity = 0.25
    doc.pose.visible = False
    doc.edge.locked = True
    doc.edge.locked = True  # no change, no event
    assert events == [
        ChangeEvent("depth", "property", None, "opacity"),
        ChangeEvent("pose", "property", None, "visible"),
        ChangeEvent("edge", "property", None, "locked"),
    ]
    with pytest.raises(DocumentError):
        doc.depth.opacity = 1.5
    with pytest.raises(DocumentError):
        doc.depth.opacity = float("nan")
    unsubscribe()
    doc.depth.opacity = 0.5
    assert len(events) == 3
    assert not doc.history.can_undo  # property changes are not undo steps


def test_locked_layer_refuses_edits_but_undo_still_works():
    doc = Document(64, 64)
    doc.edge.draw_line((5, 5), (50, 50), width=3)
    doc.edge.locked = True
    for edit in (doc.edge.begin_stroke, doc.edge.clear, doc.edge.invert):
        with pytest.raises(LayerLockedError):
            edit()
    doc.depth.locked = True
    with pytest.raises(LayerLockedError):
        doc.depth.fill(0.5)
    doc.pose.locked = True
    with pytest.raises(LayerLockedError):
        doc.pose.add_template("standing")
    doc.reference.locked = True
    with pytest.raises(LayerLockedError):
        doc.reference.set_image(np.zeros((64, 64, 3), np.uint8))
    assert issubclass(LayerLockedError, StudioError)
    assert doc.history.undo()
    assert doc.edge.data.max() == 0


def test_stroke_is_one_step_with_region_events_and_exact_undo_redo():
    doc = Document(256, 256)
    events, pushes = [], []
    doc.subscribe(events.append)
    doc.history.subscribe(lambda e: pushes.append(e.action))
    doc.edge.begin_stroke(width=3)
    for x in range(20, 200, 10):
        doc.edge.add_point(x, x / 2)
    assert pushes == []  # nothing is pushed before the stroke ends
    doc.edge.end_stroke()
    assert pushes == ["push"]
    assert len(doc.history) == 1 and doc.history.undo_label == "Draw edges"
    pixel_events = [e for e in events if e.kind == "pixels"]
    assert len(pixel_events) == 18
    for event in pixel_events:  # each event covers only the touched segment, not the layer
        x0, y0, x1, y1 = event.region
        assert (x1 - x0) * (y1 - y0) < 40 * 40
    after = doc.edge.data.copy()
    assert after.max() == 255
    doc.history.undo()
    assert doc.edge.data.max() == 0
    doc.history.redo()
    np.testing.assert_array_equal(doc.edge.data, after)
    assert pushes == ["push", "undo", "redo"]


def test_undo_stores_only_touched_tiles():
    doc = Document(2048, 2048)
    doc.edge.draw_line((100, 100), (140, 100), width=4)
    step = doc.history._steps[-1]
    assert step.nbytes < 64 * 64 * 4  # a couple of 64x64 tiles, not the 4 MB layer


def test_undo_while_stroke_in_progress_finishes_the_stroke_first():
    doc = Document(64, 64)
    doc.edge.begin_stroke(width=2)
    doc.edge.add_point(5, 5)
    doc.edge.add_point(40, 5)
    assert doc.history.undo()
    assert not doc.edge.stroke_active
    assert doc.edge.data.max() == 0
    assert doc.history.can_redo


def test_whole_layer_edit_during_a_stroke_finishes_the_stroke_first():
    doc = Document(64, 64)
    doc.edge.begin_stroke(width=2)
    doc.edge.add_point(5, 5)
    doc.edge.add_point(40, 5)
    doc.edge.clear()
    assert not doc.edge.stroke_active and len(doc.history) == 2
    doc.history.undo()
    assert doc.edge.data[5, 20] == 255
    doc.history.undo()
    assert doc.edge.data.max() == 0


def test_new_step_after_undo_drops_redo_branch():
    doc = Document(64, 64)
    doc.depth.fill(0.2)
    doc.depth.fill(0.4)
    doc.history.undo()
    doc.depth.fill(0.6)
    assert not doc.history.can_redo and len(doc.history) == 2
    doc.history.undo()
    assert doc.depth.data[0, 0] == pytest.approx(0.2)


def test_group_merges_pose_drags_into_one_step():
    doc = Document(512, 512)
    doc.pose.add_template("standing")
    start = doc.pose.people[0]
    with doc.history.group("Drag point"):
        for x in range(100, 200, 10):
            doc.pose.move_point(0, "body", 4, x, 300)
    assert len(doc.history) == 2 and doc.history.undo_label == "Drag point"
    assert doc.pose.people[0].body.xy[4].tolist() == [190, 300]
    doc.history.undo()
    assert doc.pose.people[0] == start


def test_group_of_different_steps_becomes_compound_step():
    doc = Document(64, 64)
    doc.history.begin_group("Several")
    doc.depth.fill(0.5)
    doc.edge.draw_line((0, 0), (63, 63), width=1)
    doc.history.end_group()
    assert len(doc.history) == 1
    assert isinstance(doc.history._steps[0], CompoundStep)
    doc.history.undo()
    assert doc.depth.data.max() == 0 and doc.edge.data.max() == 0
    with pytest.raises(RuntimeError):
        doc.history.end_group()


class _SizedStep(UndoStep):
    def __init__(self, size):
        self.size = size
        self.label = f"step {size}"

    def undo(self):
        pass

    def redo(self):
        pass

    @property
    def nbytes(self):
        return self.size


def test_history_memory_cap_drops_oldest_steps():
    history = UndoHistory(memory_limit=1000)
    dropped = []
    history.subscribe(lambda e: dropped.append(e.step.label) if e.action == "dropped" else None)
    for _ in range(5):
        history.push(_SizedStep(300))
    assert len(history) == 3 and history.nbytes <= 1000
    assert dropped == ["step 300", "step 300"]
    history.push(_SizedStep(5000))  # the newest step always stays
    assert len(history) == 1 and history.can_undo


def test_document_history_cap_bounds_memory_of_big_edits():
    doc = Document(512, 512, undo_memory_limit=3 * 512 * 512 * 4)
    for value in (0.1, 0.2, 0.3, 0.4, 0.5):
        doc.depth.fill(value)
    assert doc.history.nbytes <= 3 * 512 * 512 * 4 + 4096
    while doc.history.undo():
        pass
    assert doc.depth.data[0, 0] > 0  # the oldest fills were dropped, so their state is unreachable


@pytest.mark.parametrize("kind", ["edge", "pose", "depth"])
def test_control_images_are_rgb_uint8_at_any_size(kind):
    doc = Document(320, 240)
    doc.edge.draw_line((10, 10), (300, 200), width=6)
    doc.depth.linear_gradient((0, 0), (320, 0))
    doc.pose.add_template("walking", hands=True, face=True)
    image = doc.control_image(kind)
    assert image.shape == (240, 320, 3) and image.dtype == np.uint8
    assert image.max() > 0
    small = doc.control_image(kind, 160, 120)
    assert small.shape == (120, 160, 3)
    with pytest.raises(DocumentError):
        doc.control_image(kind, 0, 10)


def test_control_image_content_and_unknown_kind():
    doc = Document(64, 32)
    doc.depth.fill(0.5)
    depth = doc.control_image("depth")
    assert (depth == 128).all()
    doc.edge.draw_line((2, 16), (60, 16), width=1)
    edge = doc.control_image("edge")
    assert (edge[16, 2:61] == 255).all() and edge[0].max() == 0
    assert (edge[:, :, 0] == edge[:, :, 1]).all()
    with pytest.raises(DocumentError):
        doc.control_image("normal")
    with pytest.raises(DocumentError):
        doc.layer("sky")


def test_reference_layer_set_clear_undo():
    doc = Document(40, 30)
    image = np.random.default_rng(0).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    doc.reference.set_image(image)
    np.testing.assert_array_equal(doc.reference.image, image)
    doc.reference.clear()
    assert doc.reference.image is None
    doc.history.undo()
    np.testing.assert_array_equal(doc.reference.image, image)
    with pytest.raises(DocumentError):
        doc.reference.set_image(np.zeros((30, 41, 3), np.uint8))
    assert doc.reference.opacity == 0.5


def test_copy_is_a_detached_snapshot_without_history_or_subscribers():
    doc = Document(96, 64, undo_memory_limit=10_000_000)
    doc.reference.set_image(np.random.default_rng(0).integers(0, 256, (64, 96, 3), dtype=np.uint8))
    doc.edge.draw_line((5, 5), (90, 60), width=3)
    doc.depth.radial_gradient((48, 32), 30)
    doc.pose.add_template("walking", height=50)
    doc.depth.opacity, doc.pose.visible, doc.edge.locked = 0.25, False, True
    events = []
    doc.subscribe(events.append)
    copy = doc.copy()
    assert copy.size == doc.size and len(copy.history) == 0 and copy.history.memory_limit == 10_000_000
    assert document_to_files(copy) == document_to_files(doc)  # same content and properties, byte for byte
    assert copy.edge.data is not doc.edge.data and copy.depth.data is not doc.depth.data
    assert not copy.reference.image.flags.writeable  # shared, but nobody can change it in place
    doc.edge.locked = False
    doc.edge.clear()
    doc.depth.fill(0.5)
    doc.pose.move_person(0, 10, 0)
    doc.reference.clear()
    assert copy.edge.data.max() == 255 and copy.depth.data[0, 0] == 0.0
    assert copy.pose.people[0] != doc.pose.people[0] and copy.reference.image is not None
    count = len(events)
    copy.edge.locked = False
    copy.edge.clear()
    assert len(events) == count and len(copy.history) == 1 and len(doc.history) == 8


def test_copy_takes_a_stroke_in_progress_as_drawn_so_far():
    doc = Document(64, 64)
    doc.edge.begin_stroke(width=4)
    doc.edge.add_point(5, 5)
    doc.edge.add_point(40, 5)
    copy = doc.copy()
    assert doc.edge.stroke_active and not copy.edge.stroke_active
    np.testing.assert_array_equal(copy.edge.data, doc.edge.data)
    doc.edge.add_point(40, 40)
    doc.edge.end_stroke()
    assert copy.edge.data[30, 40] == 0 and len(doc.history) == 1
