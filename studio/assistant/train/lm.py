"""The small causal LM (a Llama-architecture transformers model) and its training loop.

Documents are tokenized, each followed by `<|endoftext|>`, and packed whole into fixed-length blocks (padding
is not learned). A per-token mask leaves tokens out of the loss (tool results during fine-tuning: the model never
has to predict them, the runtime inserts them).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast


@dataclass(frozen=True)
class ModelSize:
    """Shape of the base model."""

    hidden: int = 160
    layers: int = 4
    heads: int = 5
    intermediate: int = 448
    context: int = 512


@dataclass(frozen=True)
class TrainSettings:
    """Optimisation settings; `epochs` may be fractional."""

    epochs: float = 1.0
    batch_size: int = 8
    block: int = 256
    learning_rate: float = 1.5e-3
    warmup: int = 60
    weight_decay: float = 0.01
    seed: int = 0
    threads: int = 1


def new_model(tokenizer: PreTrainedTokenizerFast, size: ModelSize = ModelSize(), *, seed: int = 0):
    """A freshly initialised model for `tokenizer` (same seed, same weights)."""
    torch.manual_seed(seed)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=size.hidden, intermediate_size=size.intermediate,
                         num_hidden_layers=size.layers, num_attention_heads=size.heads,
                         num_key_value_heads=size.heads, max_position_embeddings=size.context,
                         tie_word_embeddings=True, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    return LlamaForCausalLM(config)


@dataclass
class Document:
    """Token ids of one document and which of them are learned."""

    ids: list[int]
    learn: list[bool]


def pack(documents: Sequence[Document], *, block: int, pad_id: int, rng: random.Random) -> tuple[torch.Tensor,
                                                                                                   torch.Tensor]:
    """Inputs and labels (-100 where not learned), documents in random order packed whole into blocks."""
    order = list(range(len(documents)))
    rng.shuffle(order)
    rows: list[tuple[list[int], list[int]]] = []
    ids: list[int] = []
    labels: list[int] = []
    for index in order:
        document = documents[index]
        doc_ids = document.ids[:block]
        doc_labels = [t if keep else -100 for t, keep in zip(doc_ids, document.learn[:block])]
        if len(ids) + len(doc_ids) > block:
            rows.append((ids, labels))
            ids, labels = [], []
        ids += doc_ids
        labels += doc_labels
    if ids:
        rows.append((ids, labels))
    inputs = torch.full((len(rows), block), pad_id, dtype=torch.long)
    targets = torch.full((len(rows), block), -100, dtype=torch.long)
    for row, (row_ids, row_labels) in enumerate(rows):
        inputs[row, : len(row_ids)] = torch.tensor(row_ids)
        targets[row, : len(row_labels)] = torch.tensor(row_labels)
    return inputs, targets


def train(model, documents: Sequence[Document], *, pad_id: int, settings: TrainSettings = TrainSettings(),
          log: Callable[[str], None] = print) -> list[float]:
    """Train `model` in place on `documents`; returns the loss of every step."""
    torch.manual_seed(settings.seed)
    torch.set_num_threads(settings.threads)
    rng = random.Random(settings.seed)
    epochs = max(1, math.ceil(settings.epochs))
    blocks = [pack(documents, block=settings.block, pad_id=pad_id, rng=rng) for _ in range(epochs)]
    inputs = torch.cat([b[0] for b in blocks])
    targets = torch.cat([b[1] for b in blocks])
    total_steps = max(1, min(int(len(blocks[0][0]) * settings.epochs), len(inputs)) // settings.batch_size)
    optimizer = torch.optim.AdamW(model.parameters(), lr=settings.learning_rate, betas=(0.9, 0.95),
                                  weight_decay=settings.weight_decay)

    def rate(step: int) -> float:
        if step < settings.warmup:
            return (step + 1) / settings.warmup
        progress = (step - settings.warmup) / max(1, total_steps - settings.warmup)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, rate)
    model.train()
    losses: list[float] = []
    started = time.monotonic()
    for step in range(total_steps):
        rows = slice(step * settings.batch_size, (step + 1) * settings.batch_size)
        loss = model(input_ids=inputs[rows], labels=targets[rows]).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
        if step % 50 == 0 or step == total_steps - 1:
            recent = sum(losses[-50:]) / len(losses[-50:])
            log(f"step {step + 1}/{total_steps} loss {recent:.3f} ({time.monotonic() - started:.0f} s)")
    model.eval()
    return losses
