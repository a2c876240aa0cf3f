"""Depth layer: brush modes, gradients, fill, blur, import and export, estimation with a tiny model."""

import cv2
import numpy as np
import pytest

from studio.document import DepthModelError, Document, DocumentError, LayerLockedError
from studio.document.picture_import import estimate_depth_from_picture, import_depth_picture
from studio.imageio import encode_png


def test_set_brush_soft_falloff_and_strength():
    doc = Document(128, 128)
    doc.depth.stroke([(64, 64)], mode="set", value=0.8, radius=20, hardness=0.5)
    d = doc.depth.data
    assert d[64, 64] == pytest.approx(0.8)
    assert d[64, 64 + 9] == pytest.approx(0.8)  # inside the hard core (radius * hardness)
    assert 0.0 < d[64, 64 + 15] < 0.8  # falloff
    assert d[64, 64 + 22] == 0.0
    doc.depth.stroke([(64, 64)], mode="set", value=0.0, radius=20, strength=0.5)
    assert doc.depth.data[64, 64] == pytest.approx(0.4)


def test_overlapping_dabs_of_one_stroke_do_not_pile_up():
    doc = Document(128, 64)
    doc.depth.fill(0.2)
    doc.depth.stroke([(10, 32), (60, 32), (110, 32), (60, 32)], mode="raise", radius=10, strength=0.3)
    assert doc.depth.data[32, 60] == pytest.approx(0.5)
    doc.depth.stroke([(10, 32), (110, 32)], mode="lower", radius=10, strength=1.0)
    assert doc.depth.data[32, 60] == 0.0  # clipped at 0
    assert doc.depth.data.min() >= 0 and doc.depth.data.max() <= 1


def test_smooth_brush_blurs_only_under_the_brush():
    doc = Document(128, 128)
    steps = np.zeros((128, 128), np.float32)
    steps[:, 64:] = 1.0
    doc.depth.set_depth(steps)
    doc.depth.stroke([(64, 30)], mode="smooth", radius=12, hardness=1.0, strength=1.0)
    d = doc.depth.data
    assert 0.0 < d[30, 62] < 0.5 < d[30, 65] < 1.0
    assert d[100, 62] == 0.0 and d[100, 65] == 1.0


def test_brush_stroke_is_one_step_and_undo_is_exact():
    doc = Document(256, 256)
    doc.depth.linear_gradient((0, 0), (256, 256))
    before = doc.depth.data.copy()
    events = []
    doc.subscribe(events.append)
    doc.depth.stroke([(20 + 4 * i, 30 + 3 * i) for i in range(50)], mode="raise", radius=15, strength=0.2)
    assert len(doc.history) == 2
    assert all(e.region is not None and (e.region[2] - e.region[0]) < 60 for e in events)
    doc.history.undo()
    np.testing.assert_array_equal(doc.depth.data, before)


def test_pressure_scales_the_brush_radius_within_one_step():
    doc = Document(256, 64)
    doc.depth.stroke([(20, 32, 1.0), (236, 32, 0.25)], mode="set", value=1.0, radius=20, hardness=1.0)
    assert len(doc.history) == 1
    painted = [np.count_nonzero(doc.depth.data[:, x]) for x in (30, 128, 226)]
    assert painted[0] >= 38 and 22 <= painted[1] <= 28 and painted[2] <= 12  # radius 20 -> 12.5 -> 5
    doc.depth.stroke([(128, 4, 0.0)], mode="set", value=0.5, radius=20, hardness=1.0)  # lightest touch: 0.5 px
    assert np.count_nonzero(doc.depth.data[:10, 118:138]) == 1
    doc.history.undo()
    doc.history.undo()
    assert not doc.depth.data.any()
    doc.depth.begin_stroke()
    with pytest.raises(DocumentError):
        doc.depth.add_point(5, 5, pressure=2.0)
    doc.depth.end_stroke()


def _terrain():
    """Left half a flat plane at 0.2 with a 0.25 bump in it, right half 0.6, split by a 0.9 wall."""
    depth = np.full((64, 128), 0.2, np.float32)
    depth[20:30, 10:20] = 0.25
    depth[:, 60:64] = 0.9
    depth[:, 64:] = 0.6
    return depth


def test_fill_region_fills_the_connected_area_within_tolerance():
    doc = Document(128, 64)
    doc.depth.set_depth(_terrain())
    region = doc.depth.fill_region(5.5, 5.5, value=0.1)
    assert region == (0, 0, 60, 64) and len(doc.history) == 2
    d = doc.depth.data
    assert d[0, 0] == np.float32(0.1) and d[25, 15] == np.float32(0.25)  # the bump differs: kept
    assert d[0, 62] == np.float32(0.9) and d[0, 100] == np.float32(0.6)  # beyond the wall: kept
    doc.history.undo()
    doc.depth.fill_region(5.5, 5.5, value=0.1, tolerance=0.06)  # the bump is within 0.06 of the seed
    assert d[25, 15] == np.float32(0.1) and d[0, 100] == np.float32(0.6)
    doc.depth.fill_region(100, 10, value=0.0, tolerance=0.35)  # takes the wall (0.9 - 0.6 <= 0.35), not 0.1
    assert d[0, 62] == 0.0 and d[0, 100] == 0.0 and d[0, 0] == np.float32(0.1)
    assert doc.history.undo_label == "Fill depth region"
    while doc.history.undo():
        pass
    assert not doc.depth.data.any()


def test_fill_region_step_holds_only_the_tiles_under_the_region():
    doc = Document(1024, 1024)
    depth = np.zeros((1024, 1024), np.float32)
    depth[100:150, 200:260] = 0.5
    doc.depth.set_depth(depth)
    events = []
    doc.subscribe(events.append)
    assert doc.depth.fill_region(210, 110, value=1.0) == (200, 100, 260, 150)
    assert events[-1].region == (200, 100, 260, 150)
    assert doc.history._steps[-1].nbytes <= 4 * 64 * 64 * 4 + 1024  # at most 2 x 2 tiles of 64 px
    assert doc.depth.data[99:151, 199:261].sum() == 50 * 60


def test_fill_region_without_change_adds_no_step_and_bad_calls_fail_cleanly():
    doc = Document(32, 32)
    assert doc.depth.fill_region(3, 3, value=0.0) is None and len(doc.history) == 0
    for x, y in ((-1, 3), (32, 3), (3, 32.5), (float("nan"), 3)):
        with pytest.raises(DocumentError):
            doc.depth.fill_region(x, y, value=0.5)
    with pytest.raises(DocumentError):
        doc.depth.fill_region(3, 3, value=1.5)
    with pytest.raises(DocumentError):
        doc.depth.fill_region(3, 3, value=0.5, tolerance=-0.1)
    doc.depth.locked = True
    with pytest.raises(LayerLockedError):
        doc.depth.fill_region(3, 3, value=0.5)
    assert len(doc.history) == 0 and not doc.depth.data.any()


def test_gradients_fill_blur():
    doc = Document(100, 50)
    doc.depth.linear_gradient((0, 0), (100, 0), start_value=0.0, end_value=1.0)
    d = doc.depth.data
    assert d[10, 0] == pytest.approx(0.005) and d[10, 99] == pytest.approx(0.995)
    assert (np.diff(d[0]) > 0).all() and (d[0] == d[49]).all()
    doc.depth.radial_gradient((50, 25), 20, center_value=1.0, edge_value=0.25)
    assert doc.depth.data[25, 50] == pytest.approx(1.0, abs=0.04)
    assert doc.depth.data[0, 0] == pytest.approx(0.25)
    doc.depth.fill(0.3)
    assert (doc.depth.data == np.float32(0.3)).all()
    noisy = np.random.default_rng(0).random((50, 100)).astype(np.float32)
    doc.depth.set_depth(noisy)
    doc.depth.blur(2.0)
    np.testing.assert_allclose(doc.depth.data, cv2.GaussianBlur(noisy, (0, 0), 2.0, borderType=cv2.BORDER_REFLECT))


def test_depth_argument_errors():
    doc = Document(32, 32)
    with pytest.raises(DocumentError):
        doc.depth.begin_stroke(mode="carve")
    with pytest.raises(DocumentError):
        doc.depth.begin_stroke(radius=0)
    with pytest.raises(DocumentError):
        doc.depth.begin_stroke(strength=2)
    with pytest.raises(DocumentError):
        doc.depth.fill(-0.1)
    with pytest.raises(DocumentError):
        doc.depth.linear_gradient((3, 3), (3, 3))
    with pytest.raises(DocumentError):
        doc.depth.radial_gradient((3, 3), 0)
    with pytest.raises(DocumentError):
        doc.depth.blur(float("nan"))
    with pytest.raises(DocumentError):
        doc.depth.set_depth(np.full((32, 32), np.nan))
    with pytest.raises(DocumentError):
        doc.depth.set_depth(np.zeros((31, 32)))
    assert len(doc.history) == 0


def test_export_8_and_16_bit():
    doc = Document(64, 8)
    doc.depth.linear_gradient((0, 0), (64, 0), start_value=0.0, end_value=1.0)
    d8, d16 = doc.depth.to_uint8(), doc.depth.to_uint16()
    assert d8.dtype == np.uint8 and d16.dtype == np.uint16
    np.testing.assert_array_equal(d8, np.rint(doc.depth.data * 255))
    np.testing.assert_array_equal(d16, np.rint(doc.depth.data.astype(np.float64) * 65535))
    assert len(np.unique(d16)) == 64


def test_import_8_and_16_bit_grey_images_with_invert(tmp_path):
    ramp16 = (np.arange(64, dtype=np.uint32)[None, :].repeat(16, 0) * 1000).astype(np.uint16)
    path16 = tmp_path / "d16.png"
    path16.write_bytes(encode_png(ramp16))
    doc = Document(64, 16)
    import_depth_picture(doc, path16)
    np.testing.assert_allclose(doc.depth.data, ramp16 / 65535.0, atol=1e-7)
    import_depth_picture(doc, str(path16), invert=True)
    np.testing.assert_allclose(doc.depth.data, 1.0 - ramp16 / 65535.0, atol=1e-6)
    ramp8 = (np.arange(64, dtype=np.uint8)[None, :].repeat(16, 0) * 4).astype(np.uint8)
    import_depth_picture(doc, encode_png(ramp8))
    np.testing.assert_allclose(doc.depth.data, ramp8 / 255.0, atol=1e-7)
    rgb = np.repeat(ramp8[:, :, None], 3, axis=2)
    import_depth_picture(doc, encode_png(rgb))  # grey stored as RGB
    np.testing.assert_allclose(doc.depth.data, ramp8 / 255.0, atol=1e-7)
    import_depth_picture(doc, encode_png(np.zeros((32, 128), np.uint8)))  # other size: cover + crop
    assert doc.depth.data.shape == (16, 64)


def _tiny_dpt(path):
    from transformers import DPTConfig, DPTForDepthEstimation, DPTImageProcessor

    config = DPTConfig(
        hidden_size=16, num_hidden_layers=4, num_attention_heads=2, intermediate_size=32, image_size=32,
        patch_size=8, backbone_out_indices=[0, 1, 2, 3], neck_hidden_sizes=[8, 8, 8, 8], fusion_hidden_size=8,
        head_in_index=-1, reassemble_factors=[4, 2, 1, 0.5],
    )  # fmt: skip
    DPTForDepthEstimation(config).save_pretrained(path)
    DPTImageProcessor(size={"height": 32, "width": 32}, keep_aspect_ratio=False).save_pretrained(path)


def _tiny_depth_anything(path):
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config, DPTImageProcessor

    backbone = Dinov2Config(
        hidden_size=16, num_hidden_layers=4, num_attention_heads=2, intermediate_size=32, image_size=28,
        patch_size=14, out_indices=[1, 2, 3, 4], reshape_hidden_states=False,
    )  # fmt: skip
    config = DepthAnythingConfig(
        backbone_config=backbone, neck_hidden_sizes=[8, 8, 8, 8], fusion_hidden_size=8, head_hidden_size=8,
        reassemble_hidden_size=16, patch_size=14,
    )  # fmt: skip
    DepthAnythingForDepthEstimation(config).save_pretrained(path)
    DPTImageProcessor(
        size={"height": 28, "width": 28}, keep_aspect_ratio=False, ensure_multiple_of=14
    ).save_pretrained(path)


@pytest.mark.parametrize("build", [_tiny_dpt, _tiny_depth_anything])
def test_estimate_depth_with_tiny_local_models(tmp_path, build):
    import torch

    torch.manual_seed(0)
    build(tmp_path / "model")
    doc = Document(48, 40)
    photo = np.random.default_rng(1).integers(0, 256, (80, 96, 3), dtype=np.uint8)
    estimate_depth_from_picture(doc, photo, tmp_path / "model", device="cpu")
    d = doc.depth.data
    assert d.shape == (40, 48) and d.min() == 0.0 and d.max() == pytest.approx(1.0)
    assert doc.history.undo_label == "Estimate depth"


def test_estimate_depth_bad_model_folder(tmp_path):
    with pytest.raises(DepthModelError):
        estimate_depth_from_picture(Document(16, 16), np.zeros((16, 16, 3), np.uint8), tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(DepthModelError):
        estimate_depth_from_picture(Document(16, 16), np.zeros((16, 16, 3), np.uint8), tmp_path)
