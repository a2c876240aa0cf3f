"""The scorer's head: the LAION aesthetic predictor's MLP shape (embedding -> 1024 -> 128 -> 64 -> 16 -> 1 with
dropout 0.2, 0.2, 0.1 after the first three layers) on the standardised embedding. Its output is a score whose
sigmoid is the probability that the designer keeps the image; score differences are Bradley-Terry log-odds of
preferring one image to another."""

from __future__ import annotations

import torch
from torch import nn

WIDTHS = (1024, 128, 64, 16)
DROPOUT = (0.2, 0.2, 0.1, 0.0)


class ScoreHead(nn.Module):
    def __init__(self, dim: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = dim
        for out, dropout in zip(WIDTHS, DROPOUT):
            layers.append(nn.Linear(width, out))
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = out
        layers.append(nn.Linear(width, 1))
        self.layers = nn.Sequential(*layers)
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))
        self.dim = dim

    def set_standardisation(self, features: torch.Tensor) -> None:
        """Centre and scale inputs by the training embeddings' mean and spread."""
        self.mean.copy_(features.mean(dim=0))
        self.std.copy_(features.std(dim=0).clamp_min(1e-6) if len(features) > 1 else torch.ones(self.dim))

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.layers((features - self.mean) / self.std).squeeze(-1)
