"""Document files for the history store and saving: round trip, deterministic bytes, corrupt input."""

import json

import numpy as np
import pytest

from studio.document import Document, DocumentFormatError
from studio.document.serialize import document_from_files, document_to_files, layer_from_bytes, layer_to_bytes
from studio.imageio import encode_png


def _doc():
    doc = Document(96, 64)
    doc.reference.set_image(np.random.default_rng(0).integers(0, 256, (64, 96, 3), dtype=np.uint8))
    doc.edge.stroke([(5, 5), (90, 60)], width=3)
    doc.depth.radial_gradient((48, 32), 30)
    doc.pose.add_template("walking", height=60, hands=True, face=True)
    doc.depth.opacity = 0.75
    doc.pose.visible = False
    doc.edge.locked = True
    return doc


def test_round_trip_keeps_content_and_properties():
    doc = _doc()
    files = document_to_files(doc)
    assert set(files) == {"document.json", "edge.png", "depth.png", "pose.json", "reference.png"}
    meta = json.loads(files["document.json"])
    assert meta["width"] == 96 and meta["layers"]["depth"]["opacity"] == 0.75
    back = document_from_files(files)
    assert back.size == (96, 64) and len(back.history) == 0
    np.testing.assert_array_equal(back.edge.data, doc.edge.data)
    np.testing.assert_array_equal(back.reference.image, doc.reference.image)
    np.testing.assert_allclose(back.depth.data, doc.depth.data, atol=1 / 65535)
    assert back.pose.people == doc.pose.people
    assert back.depth.opacity == 0.75 and not back.pose.visible and back.edge.locked
    assert document_to_files(back) == files  # same content, same bytes


def test_bytes_are_deterministic_and_reference_optional():
    a, b = Document(32, 32), Document(32, 32)
    for doc in (a, b):
        doc.edge.draw_line((1, 1), (30, 30))
    assert document_to_files(a) == document_to_files(b)
    assert "reference.png" not in document_to_files(a)
    b.edge.draw_line((1, 30), (30, 1))
    assert document_to_files(a)["edge.png"] != document_to_files(b)["edge.png"]


def test_depth_file_is_16_bit():
    doc = Document(16, 16)
    doc.depth.fill(0.5)
    from PIL import Image
    import io

    image = Image.open(io.BytesIO(document_to_files(doc)["depth.png"]))
    assert image.mode.startswith("I") and np.asarray(image).max() == 32768


def test_layer_bytes_one_at_a_time():
    doc = _doc()
    other = Document(96, 64)
    for layer in ("edge", "depth", "pose", "reference"):
        layer_from_bytes(other.layer(layer), layer_to_bytes(doc.layer(layer)))
    np.testing.assert_array_equal(other.edge.data, doc.edge.data)
    assert other.pose.people == doc.pose.people
    assert len(other.history) == 4  # each load is an undoable step
    layer_from_bytes(other.reference, None)
    assert other.reference.image is None


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda f: f.pop("document.json"), "no document.json"),
        (lambda f: f.update({"document.json": b"{oops"}), "not valid JSON"),
        (lambda f: f.update({"document.json": b'{"format": "x"}'}), "not a ControlNet Studio"),
        (lambda f: f.pop("edge.png"), "no edge.png"),
        (lambda f: f.update({"edge.png": b"garbage"}), "not a readable image"),
        (lambda f: f.update({"edge.png": encode_png(np.zeros((10, 10), np.uint8))}), "but the document is"),
        (lambda f: f.update({"edge.png": encode_png(np.zeros((64, 96, 3), np.uint8))}), "8-bit grey"),
        (lambda f: f.update({"depth.png": f["depth.png"][:40]}), "not a readable image"),
        (lambda f: f.update({"pose.json": b'{"people": 1}'}), "people"),
    ],
)
def test_corrupt_files_raise_document_format_error(change, message):
    files = document_to_files(_doc())
    change(files)
    with pytest.raises(Exception, match=message) as info:
        document_from_files(files)
    from studio.errors import StudioError

    assert isinstance(info.value, StudioError)


def test_bad_metadata_values():
    files = document_to_files(Document(8, 8))
    for meta in (
        {"format": "controlnet-studio-document", "version": 2, "width": 8, "height": 8},
        {"format": "controlnet-studio-document", "version": 1, "width": 0, "height": 8},
        {"format": "controlnet-studio-document", "version": 1, "width": 8, "height": 8, "layers": {"edge": {"opacity": 7}}},
    ):  # fmt: skip
        files["document.json"] = json.dumps(meta).encode()
        with pytest.raises(DocumentFormatError):
            document_from_files(files)
