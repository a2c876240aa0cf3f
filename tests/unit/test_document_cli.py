"""`studio pose|edges|depth` commands, run through the real `studio` entry point."""

import json

import cv2
import numpy as np

from studio.cli import main
from studio.imageio import encode_png, load_gray, load_rgb


def test_pose_template_list_write_and_render(tmp_path, capsys):
    assert main(["pose", "template", "--list"]) == 0
    assert "arms_raised" in capsys.readouterr().out.split()
    out = tmp_path / "p.json"
    assert main(["pose", "template", "sitting", "--hands", "--face", "--width", "640", "--height", "480", "--out", str(out)]) == 0
    data = json.loads(out.read_text())
    assert data["canvas_width"] == 640 and len(data["people"][0]["face_keypoints_2d"]) == 210
    png = tmp_path / "p.png"
    assert main(["pose", "render", "--json", str(out), "--out", str(png)]) == 0
    image = load_rgb(png)
    assert image.shape == (480, 640, 3)
    neck = data["people"][0]["pose_keypoints_2d"][3:5]
    assert image[int(neck[1]), int(neck[0])].tolist() == [255, 85, 0]
    assert main(["pose", "render", "--json", str(out), "--width", "320", "--height", "240", "--out", str(png)]) == 0
    assert load_rgb(png).shape == (240, 320, 3)


def test_pose_errors_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text('{"people": [{"pose_keypoints_2d": [1, 2]}]}')
    assert main(["pose", "render", "--json", str(bad), "--out", str(tmp_path / "x.png")]) == 2
    assert "expected 54" in capsys.readouterr().err
    assert main(["pose", "render", "--json", str(tmp_path / "missing.json"), "--out", str(tmp_path / "x.png")]) == 2
    assert main(["pose", "template", "dancing", "--out", str(tmp_path / "x.json")]) == 2


def test_edges_commands_match_opencv(tmp_path):
    rng = np.random.default_rng(0)
    picture = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
    src = tmp_path / "in.png"
    src.write_bytes(encode_png(picture))
    out = tmp_path / "edges.png"
    assert main(["edges", "canny", "--image", str(src), "--low", "50", "--high", "150", "--out", str(out)]) == 0
    np.testing.assert_array_equal(load_gray(out), cv2.Canny(picture, 50, 150) / 255.0)
    assert main(["edges", "scribble", "--image", str(src), "--out", str(out)]) == 0
    assert load_gray(out).shape == (60, 80)
    assert main(["edges", "canny", "--image", str(tmp_path / "nope.png"), "--out", str(out)]) == 2


def test_depth_import_inverts_and_writes_16_bit(tmp_path):
    ramp = (np.arange(32, dtype=np.uint16)[None, :].repeat(8, 0) * 2000).astype(np.uint16)
    src = tmp_path / "d.png"
    src.write_bytes(encode_png(ramp))
    out = tmp_path / "out.png"
    assert main(["depth", "import", "--image", str(src), "--invert", "--out", str(out)]) == 0
    np.testing.assert_allclose(load_gray(out), 1.0 - ramp / 65535.0, atol=1 / 65535)
    assert main(["depth", "import", "--image", str(src), "--bits", "8", "--out", str(out)]) == 0
    np.testing.assert_array_equal(load_gray(out) * 255, np.rint(ramp / 65535.0 * 255))
    assert main(["depth", "estimate", "--model", str(tmp_path), "--image", str(src), "--out", str(out)]) == 2
