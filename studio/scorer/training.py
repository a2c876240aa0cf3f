"""Training the head and measuring it.

Loss: Bradley-Terry on preference pairs, -log sigmoid(s_preferred - s_other), plus `pointwise_weight` times the
binary cross-entropy of sigmoid(s) against each labelled image's target (verdicts, star ratings). Full-batch
AdamW on the embeddings (the CLIP encoder stays frozen, so embeddings are computed once).

Evaluation: k-fold over requests (all images of one request are held out together, so a held-out pair is never
half seen), pooled pairwise accuracy on the held-out pairs, against chance (0.5) and "newest first" (the newer
image of a pair is the preferred one; within a batch, the later image). Ties count half.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from studio.scorer.data import Data
from studio.scorer.errors import ScorerError
from studio.scorer.head import ScoreHead


@dataclass(frozen=True)
class TrainSettings:
    epochs: int = 100
    learning_rate: float = 3e-4
    weight_decay: float = 1e-2
    pointwise_weight: float = 0.5
    folds: int = 5
    seed: int = 0


@dataclass
class Evaluation:
    folds: int
    pairs: int  # held-out pairs, all folds together
    accuracy: float | None  # the scorer's pairwise accuracy on them
    newest_first: float | None
    chance: float = 0.5
    keep_accuracy: float | None = None  # held-out images with a verdict: p >= 0.5 matches kept
    keep_base_rate: float | None = None  # ... and always guessing the commoner verdict
    per_fold: list[float] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def fit(features: np.ndarray, pairs: np.ndarray, targets: np.ndarray, settings: TrainSettings) -> ScoreHead:
    """A head trained on these embeddings, pairs and targets (NaN: no target)."""
    if len(pairs) == 0 and not np.isfinite(targets).any():
        raise ScorerError("There is nothing to learn from: no image has a verdict or a rating, and no two images "
                          "of one request were told apart. Accept, reject or rate some results first.")
    torch.manual_seed(settings.seed)
    x = torch.from_numpy(features)
    head = ScoreHead(x.shape[1])
    head.set_standardisation(x)
    optimiser = torch.optim.AdamW(head.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay)
    better, worse = torch.from_numpy(pairs[:, 0]), torch.from_numpy(pairs[:, 1])
    mask = torch.from_numpy(np.isfinite(targets))
    y = torch.from_numpy(np.nan_to_num(targets))
    head.train()
    for _ in range(settings.epochs):
        optimiser.zero_grad()
        scores = head(x)
        loss = torch.zeros(())
        if len(pairs):
            loss = loss + torch.nn.functional.softplus(scores[worse] - scores[better]).mean()
        if mask.any():
            loss = loss + settings.pointwise_weight * torch.nn.functional.binary_cross_entropy_with_logits(
                scores[mask], y[mask])
        loss.backward()
        optimiser.step()
    return head.eval()


def scores_of(head: ScoreHead, features: np.ndarray) -> np.ndarray:
    with torch.inference_mode():
        return head(torch.from_numpy(features)).numpy()


def pairwise_accuracy(preferred: np.ndarray, other: np.ndarray) -> float:
    """Share of pairs where the preferred side has the higher value (ties: half)."""
    return float(np.mean((preferred > other) + 0.5 * (preferred == other)))


def newness_rank(data: Data) -> np.ndarray:
    """Each item's rank from oldest (0) to newest; equal newness, equal rank."""
    keys = [item.newness for item in data.items]
    order = sorted(set(keys))
    rank = {key: n for n, key in enumerate(order)}
    return np.array([rank[key] for key in keys], np.int64)


def _folds(groups: list[str], k: int, seed: int) -> list[set[str]]:
    unique = sorted(set(groups))
    np.random.default_rng(seed).shuffle(unique)
    return [set(unique[i::k]) for i in range(k)]


def cross_validate(data: Data, settings: TrainSettings) -> Evaluation:
    """k-fold pairwise accuracy over requests (k is lowered to the number of requests with pairs)."""
    groups = [item.group for item in data.items]
    paired_groups = sorted({groups[a] for a, _ in data.pairs})
    k = min(settings.folds, len(paired_groups))
    if k < 2:
        return Evaluation(folds=0, pairs=0, accuracy=None, newest_first=None)
    newness = newness_rank(data)
    targets = data.targets
    pair_groups = np.array([groups[a] for a, _ in data.pairs])
    group_array = np.array(groups)
    right, newest, per_fold, kept_right, kept_seen, kept_targets = [], [], [], 0, 0, []
    for held in _folds(paired_groups, k, settings.seed):
        test_pairs = data.pairs[np.isin(pair_groups, list(held))]
        if not len(test_pairs):
            continue
        train_items = ~np.isin(group_array, list(held))
        index = np.cumsum(train_items) - 1  # item index -> row among the training items
        train_pairs = data.pairs[~np.isin(pair_groups, list(held))]
        head = fit(data.features[train_items], index[train_pairs], targets[train_items], settings)
        scores = scores_of(head, data.features)
        a, b = test_pairs[:, 0], test_pairs[:, 1]
        fold_right = (scores[a] > scores[b]) + 0.5 * (scores[a] == scores[b])
        right += list(fold_right)
        per_fold.append(float(np.mean(fold_right)))
        newest += list((newness[a] > newness[b]) + 0.5 * (newness[a] == newness[b]))
        held_items = ~train_items & np.isfinite(targets) & (targets != 0.5)
        kept_right += int(np.sum((scores[held_items] >= 0) == (targets[held_items] > 0.5)))
        kept_seen += int(held_items.sum())
        kept_targets += list(targets[held_items] > 0.5)
    base = max(np.mean(kept_targets), 1 - np.mean(kept_targets)) if kept_targets else None
    return Evaluation(folds=len(per_fold), pairs=len(right), accuracy=float(np.mean(right)),
                      newest_first=float(np.mean(newest)), per_fold=per_fold,
                      keep_accuracy=kept_right / kept_seen if kept_seen else None,
                      keep_base_rate=None if base is None else float(base))
