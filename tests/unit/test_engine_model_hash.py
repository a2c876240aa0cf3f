"""Model identity as A1111 and Civitai see it: AutoV2 `Model hash` = sha256[:10], cached by path, size and mtime."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading

import pytest

from studio.engine import model_hash as mh
from studio.engine.errors import ModelError
from engine_fixtures import config_home, tiny_sd15, tiny_single_files  # noqa: F401

from studio.engine.model_hash import ModelHasher, autov2, cached_sha256, hash_cache_path, model_sha256

# FIPS 180-2 / NIST test vectors for SHA-256 (public, fixed values).
ABC = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
TWO_BLOCKS = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
MILLION_A = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """A fresh cache folder and an empty in-process memo, so each test sees only its own hashing."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(folder))
    monkeypatch.setattr(mh, "_memory", {})
    return folder


def test_known_files_give_the_known_sha256_and_autov2(tmp_path, cache_dir, monkeypatch):
    (tmp_path / "abc.safetensors").write_bytes(b"abc")
    (tmp_path / "two.safetensors").write_bytes(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
    (tmp_path / "million.ckpt").write_bytes(b"a" * 1_000_000)
    monkeypatch.setattr(mh, "_CHUNK", 4096)  # the million-byte file is read in many chunks
    assert model_sha256(tmp_path / "abc.safetensors") == ABC
    assert autov2(model_sha256(tmp_path / "abc.safetensors")) == "ba7816bf8f"
    assert model_sha256(tmp_path / "two.safetensors") == TWO_BLOCKS
    assert model_sha256(tmp_path / "million.ckpt") == MILLION_A


def test_touch_keeps_the_hash_and_the_cache_is_keyed_by_size_and_mtime(tmp_path, cache_dir, monkeypatch):
    file = tmp_path / "model.safetensors"
    file.write_bytes(b"abc")
    assert model_sha256(file) == ABC
    entry = json.loads(hash_cache_path().read_text())["files"][str(file.resolve())]
    assert entry == {"size": 3, "mtime_ns": file.stat().st_mtime_ns, "sha256": ABC}
    before = file.stat()
    file.write_bytes(b"xyz")  # same size; put the old mtime back: the cache cannot tell, so it answers
    os.utime(file, ns=(before.st_atime_ns, before.st_mtime_ns))
    monkeypatch.setattr(mh, "_memory", {})  # a new process: only the cache file knows
    assert model_sha256(file) == ABC
    os.utime(file, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))  # touch: hashed again, from the bytes
    import hashlib
    assert model_sha256(file) == hashlib.sha256(b"xyz").hexdigest()
    file.write_bytes(b"abc")
    os.utime(file, ns=(2 * 10**18, 2 * 10**18))  # touch again: the bytes decide, so the hash is the old one
    assert model_sha256(file) == ABC and cached_sha256(file) == ABC


def test_a_damaged_or_hostile_cache_is_ignored_and_rewritten(tmp_path, cache_dir):
    file = tmp_path / "model.safetensors"
    file.write_bytes(b"abc")
    key = str(file.resolve())
    stat_ = file.stat()
    cache_dir.mkdir()
    bad_entries = [b"\x00\xff not json", b"[]", b'{"version": 99, "files": {}}', b"{" * 100_000,
                   json.dumps({"version": 1, "files": {key: {"size": 3, "mtime_ns": stat_.st_mtime_ns,
                                                             "sha256": "0" * 63 + "g"}}}).encode(),
                   json.dumps({"version": 1, "files": {key: {"size": "3", "mtime_ns": stat_.st_mtime_ns,
                                                             "sha256": "0" * 64}}}).encode()]
    for data in bad_entries:
        mh._memory.clear()
        hash_cache_path().write_bytes(data)
        assert cached_sha256(file) is None
        assert model_sha256(file) == ABC
        stored = json.loads(hash_cache_path().read_text())
        assert stored["version"] == 1 and stored["files"][key]["sha256"] == ABC
    assert not [p for p in cache_dir.iterdir() if p.name != mh.CACHE_NAME]  # no temporary files left


def test_entries_of_deleted_files_are_dropped(tmp_path, cache_dir):
    old, new = tmp_path / "old.safetensors", tmp_path / "new.safetensors"
    old.write_bytes(b"abc")
    new.write_bytes(b"abc!")
    model_sha256(old)
    old.unlink()
    model_sha256(new)
    assert list(json.loads(hash_cache_path().read_text())["files"]) == [str(new.resolve())]


def test_an_unwritable_cache_place_still_hashes_once_per_process(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")  # mkdir fails there, for root as well
    monkeypatch.setenv("STUDIO_CACHE_DIR", str(blocker))
    monkeypatch.setattr(mh, "_memory", {})
    file = tmp_path / "model.safetensors"
    file.write_bytes(b"abc")
    assert model_sha256(file) == ABC
    reads = []
    real = mh.hashlib.sha256
    monkeypatch.setattr(mh.hashlib, "sha256", lambda *a: reads.append(1) or real(*a))
    assert model_sha256(file) == ABC and not reads
    assert blocker.read_text().startswith("a file")


def _folder(root):
    (root / "unet").mkdir(parents=True)
    (root / "vae").mkdir()
    (root / "controlnets" / "edge").mkdir(parents=True)
    (root / "unet" / "diffusion_pytorch_model.safetensors").write_bytes(b"unet weights")
    (root / "vae" / "diffusion_pytorch_model.safetensors").write_bytes(b"vae weights")
    (root / "unet" / "config.json").write_text("{}")
    (root / "controlnets" / "edge" / "diffusion_pytorch_model.safetensors").write_bytes(b"edge")
    return root


def test_a_folder_has_a_stable_hash_of_its_weight_files(tmp_path, cache_dir):
    import hashlib

    folder = _folder(tmp_path / "model")
    first = model_sha256(folder)
    lines = "".join(f"{rel}\0{hashlib.sha256(data).hexdigest()}\n" for rel, data in
                    [("unet/diffusion_pytorch_model.safetensors", b"unet weights"),
                     ("vae/diffusion_pytorch_model.safetensors", b"vae weights")])
    assert first == hashlib.sha256(lines.encode()).hexdigest()
    copy = tmp_path / "copy"
    shutil.copytree(folder, copy)  # a copy elsewhere, with new mtimes, a README and a changed config and ControlNet
    (copy / "README.md").write_text("notes")
    (copy / "unet" / "config.json").write_text('{"changed": 1}')
    (copy / "controlnets" / "edge" / "diffusion_pytorch_model.safetensors").write_bytes(b"other edge")
    os.utime(copy / "unet" / "diffusion_pytorch_model.safetensors", ns=(10**18, 10**18))
    assert model_sha256(copy) == first and cached_sha256(copy) == first
    (copy / "vae" / "diffusion_pytorch_model.safetensors").write_bytes(b"new vae weights")
    assert model_sha256(copy) != first
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelError, match="no weight files"):
        model_sha256(empty)
    with pytest.raises(ModelError, match="Cannot read"):
        model_sha256(tmp_path / "missing.safetensors")


def test_the_hasher_works_in_the_background_and_reports_errors(tmp_path, cache_dir):
    file = tmp_path / "model.safetensors"
    file.write_bytes(b"a" * 1_000_000)
    hasher = ModelHasher()
    done = threading.Event()
    seen = []
    hasher.start(file, on_done=lambda path, value: (seen.append((path, value, threading.current_thread().name)),
                                                    done.set()))
    assert done.wait(30)
    assert seen == [(file, MILLION_A, "model-hasher")]
    assert hasher.wait(file) == MILLION_A and hasher.peek(file) == MILLION_A
    later = []
    hasher.start(file, on_done=lambda path, value: later.append(value))  # known: answered at once
    assert later == [MILLION_A]
    with pytest.raises(ModelError, match="Cannot read"):
        hasher.wait(tmp_path / "missing.safetensors", timeout=30)
    file.write_bytes(b"abc")  # changed on disk: hashed again
    assert hasher.wait(file, timeout=30) == ABC


def test_models_hash_command_prints_autov2_and_sha256(tmp_path, cache_dir):
    file = tmp_path / "abc.safetensors"
    file.write_bytes(b"abc")
    out = subprocess.run([sys.executable, "-m", "studio.cli", "models", "hash", str(file), str(tmp_path / "nope")],
                         capture_output=True, text=True, timeout=300, env={**os.environ})
    assert out.returncode == 1
    assert out.stdout.split() == ["ba7816bf8f", ABC, str(file)]
    assert "nope" in out.stderr and "Traceback" not in out.stderr


def test_generate_writes_the_autov2_hash_into_the_png_and_the_history(tiny_sd15, tiny_single_files, tmp_path,
                                                                       config_home, cache_dir):
    import hashlib

    import numpy as np
    from PIL import Image

    from studio.cli import main
    from studio.engine.metadata import read_png_metadata
    from studio.history.store import HistoryStore
    from engine_fixtures import stripes

    base = tiny_single_files["base"]
    edge = tiny_single_files["edge"]
    expected = hashlib.sha256(base.read_bytes()).hexdigest()
    edge_sha = hashlib.sha256(edge.read_bytes()).hexdigest()
    sketch = tmp_path / "sketch.png"
    Image.fromarray(stripes()).save(sketch)
    doc, out = tmp_path / "poster.studio", tmp_path / "out.png"
    args = ["generate", "--model", str(base), "--controlnet", f"edge={edge}", "--control", f"edge={sketch}",
            "--prompt", "a lighthouse", "--seed", "11", "--steps", "2", "--width", "64", "--height", "64",
            "--out", str(out), "--document", str(doc)]
    assert main(args) == 0
    parameters, _ = read_png_metadata(out)
    assert f"Model hash: {expected[:10]}, Model: {base.stem}" in parameters
    assert f"Model: {edge.stem} [{edge_sha[:8]}]" in parameters
    with HistoryStore.open(doc, readonly=True) as store:
        (generation,) = store.generations()
        identities = {m["role"]: m for m in generation.payload["models"]["models"]}
    assert identities["base"]["sha256"] == expected and identities["base"]["model_hash"] == expected[:10]
    assert identities["edge"]["sha256"] == edge_sha
    os.utime(base, ns=(10**18, 10**18))  # touch: the next image names the same model hash
    assert main(args[:-4] + ["--out", str(tmp_path / "again.png")]) == 0
    assert f"Model hash: {expected[:10]}," in read_png_metadata(tmp_path / "again.png")[0]
    assert np.asarray(Image.open(out)).shape == (64, 64, 3)


def test_drafts_take_the_hash_when_known_and_finished_runs_wait_for_it(tiny_sd15, tmp_path, cache_dir):
    from engine_fixtures import tiny_request

    from studio.engine.pipeline import Engine
    from studio.engine.settings import ModelSettings

    copy = tmp_path / "model"
    shutil.copytree(tiny_sd15.base, copy)
    expected = model_sha256(copy)
    mh._memory.clear()
    hash_cache_path().unlink()
    engine = Engine(ModelSettings.for_model(str(copy)), hasher=ModelHasher())
    request = tiny_request(controls=[], steps=1)
    draft = engine.generate(request, draft=True).models[0]
    assert draft["sha256"] in (None, expected)  # a draft never waits for the hash
    done = engine.generate(request).models[0]
    assert done["sha256"] == expected and done["model_hash"] == expected[:10]
    assert engine.generate(request, draft=True).models[0]["model_hash"] == expected[:10]  # known now


def test_from_png_notes_when_the_png_names_another_model_hash(tiny_sd15, tiny_single_files, tmp_path, config_home,
                                                              cache_dir, capsys):
    from PIL import Image

    from studio.cli import main
    from engine_fixtures import stripes

    sketch = tmp_path / "sketch.png"
    Image.fromarray(stripes()).save(sketch)
    first = tmp_path / "first.png"
    assert main(["generate", "--model", str(tiny_sd15.base), "--control", f"edge={sketch}", "--prompt", "a cat",
                 "--seed", "2", "--steps", "1", "--width", "64", "--height", "64", "--out", str(first)]) == 0
    capsys.readouterr()
    same = ["generate", "--from-png", str(first), "--model", str(tiny_sd15.base), "--out", str(tmp_path / "a.png")]
    assert main(same) == 0 and "Model hash" not in capsys.readouterr().out
    other = ["generate", "--from-png", str(first), "--model", str(tiny_single_files["base"]), "--controlnet",
             f"edge={tiny_single_files['edge']}", "--out", str(tmp_path / "b.png")]
    assert main(other) == 0
    out = capsys.readouterr().out
    assert f"the PNG was made with Model hash {autov2(model_sha256(tiny_sd15.base))}" in out
    assert autov2(model_sha256(tiny_single_files["base"])) in out
