"""The scorer on a tiny random CLIP: a synthetic designer keeps the brighter images of each batch; held-out
pairwise accuracy must reach 0.9 (chance 0.5). A missing encoder gives a clear message."""

from __future__ import annotations

import numpy as np
import pytest

from scorer_fixtures import history as _history
from scorer_fixtures import tiny_clip as _tiny_clip
from studio.scorer.errors import EncoderMissingError


def test_scorer_learns_brighter_is_kept(tmp_path):
    from studio.scorer.data import load
    from studio.scorer.encoder import ClipEncoder
    from studio.scorer.training import TrainSettings, cross_validate

    encoder = ClipEncoder(str(_tiny_clip(tmp_path / "clip")), device="cpu")
    _history(tmp_path / "d.studio", np.random.default_rng(1))
    data = load([tmp_path / "d.studio"], encoder)
    evaluation = cross_validate(data, TrainSettings())
    print(evaluation)
    assert evaluation.pairs == 40 * 4 and evaluation.accuracy >= 0.9 and evaluation.chance == 0.5


def test_missing_encoder_says_so(tmp_path):
    from studio.scorer.encoder import resolve

    with pytest.raises(EncoderMissingError, match="stays off"):
        resolve(str(tmp_path / "nothing"))
    with pytest.raises(EncoderMissingError, match="Hugging Face cache"):
        resolve("nobody/no-such-clip")


def test_train_and_rank_commands(tmp_path, capsys):
    from studio.cli import main

    clip = _tiny_clip(tmp_path / "clip")
    _history(tmp_path / "d.studio", np.random.default_rng(2), generations=6)
    assert main(["scorer", "train", str(tmp_path / "d.studio"), "--encoder", str(clip), "--out",
                 str(tmp_path / "s"), "--folds", "3"]) == 0
    assert "3-fold pairwise accuracy" in capsys.readouterr().out
    assert main(["scorer", "rank", str(tmp_path / "d.studio"), "--scorer", str(tmp_path / "s")]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 24
    assert main(["scorer", "train", str(tmp_path / "d.studio"), "--encoder", "nobody/none", "--out",
                 str(tmp_path / "t")]) == 2
    assert "stays off" in capsys.readouterr().err
