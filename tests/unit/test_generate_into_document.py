"""`studio generate --document DOC` logs the generation (request, control images, results) into the document."""

from __future__ import annotations

import numpy as np
from engine_fixtures import config_home, stripes, tiny_sd15  # noqa: F401
from PIL import Image

from studio.cli import main
from studio.history.store import HistoryStore


def _args(model, sketch, out, doc, *extra):
    return ["generate", "--model", str(model), "--control", f"edge={sketch}", "--prompt", "a lighthouse",
            "--seed", "11", "--steps", "3", "--width", "64", "--height", "64", "--out", str(out),
            "--document", str(doc), *extra]


def test_generation_is_logged_with_request_controls_and_results(tiny_sd15, tmp_path, config_home, capsys):
    sketch = tmp_path / "sketch.png"
    Image.fromarray(stripes(height=64, width=64)).save(sketch)
    doc = tmp_path / "poster.studio"
    assert main(_args(tiny_sd15.base, sketch, tmp_path / "out.png", doc)) == 0
    assert "logged in" in capsys.readouterr().out
    with HistoryStore.open(doc, readonly=True) as store:
        (generation,) = store.generations()
        assert generation.request["prompt"] == "a lighthouse" and generation.request["seed"] == 11
        (result_hash,) = generation.results
        logged = store.image(result_hash)
        written = np.asarray(Image.open(tmp_path / "out.png").convert("RGB"))
        assert np.array_equal(logged[..., :3] if logged.ndim == 3 else logged, written)
    assert main(["history", "check", str(doc)]) == 0


def test_a_failed_generation_is_logged_as_failed(tiny_sd15, tmp_path, config_home):
    sketch = tmp_path / "sketch.png"
    Image.fromarray(stripes(height=64, width=64)).save(sketch)
    doc = tmp_path / "poster.studio"
    # An edge ControlNet path that does not exist: the engine refuses the request before generating.
    missing = tmp_path / "nowhere"
    code = main(_args(tiny_sd15.base, sketch, tmp_path / "out.png", doc, "--controlnet", f"edge={missing}"))
    assert code == 2
    with HistoryStore.open(doc, readonly=True) as store:
        (generation,) = store.generations()
        assert generation.payload["status"] == "failed"
        assert generation.payload.get("error")
