"""Replacing a document's content as one undo step (what Restore and branch switches use)."""

from __future__ import annotations

import numpy as np
import pytest

from studio.document import Document, DocumentError
from studio.document.content_step import replace_content


def test_replace_content_is_one_step_with_events_and_keeps_earlier_steps():
    document = Document(64, 64)
    document.edge.stroke([(2, 2), (60, 2)], width=3)
    before = document.edge.data.copy()
    other = Document(64, 64)
    other.depth.fill(0.5)
    other.reference.set_image(np.full((64, 64, 3), 90, np.uint8))
    other.pose.opacity = 0.3
    seen = []
    document.subscribe(lambda event: seen.append((event.layer, event.kind, event.prop)))
    replace_content(document, other, label="Restore revision 2")
    assert not document.edge.data.any() and document.depth.data.any() and document.pose.opacity == 0.3
    assert int(document.reference.image[0, 0, 0]) == 90
    assert {("edge", "pixels", None), ("depth", "pixels", None), ("reference", "pixels", None),
            ("pose", "property", "opacity")} <= set(seen)
    assert len(document.history) == 2 and document.history.undo_label == "Restore revision 2"
    other.depth.fill(0.9)  # the step holds its own copy
    document.history.undo()
    assert np.array_equal(document.edge.data, before) and not document.depth.data.any()
    assert document.reference.image is None and document.pose.opacity != 0.3
    document.history.redo()
    assert document.depth.data.max() == pytest.approx(document.depth.data.min())
    document.history.undo()
    document.history.undo()
    assert not document.edge.data.any()  # the stroke before the restore still undoes


def test_other_size_is_refused_and_changes_nothing():
    document = Document(64, 64)
    with pytest.raises(DocumentError, match="32x32"):
        replace_content(document, Document(32, 32), label="Restore")
    assert len(document.history) == 0
