"""Step (b): the base model, a tokenizer and a small causal LM trained from scratch on the plain corpus.

Copy drills are mixed into training (only their answers learned): a model this small learns to copy, which
reading a tool's result needs, far sooner from many such drills than from the corpus alone. Drills and corpus
are learned together, so that neither skill is forgotten while the other is learned.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from pathlib import Path

from studio.assistant.model import save_model
from studio.assistant.train.copy_drills import copy_example, drill_words, piece_words
from studio.assistant.train.documents import document
from studio.assistant.train.examples import Example
from studio.assistant.train.lm import ModelSize, TrainSettings, new_model, train
from studio.assistant.train.tokenizer import train_tokenizer

BASE_SETTINGS = TrainSettings(epochs=2.5, batch_size=8, block=128, learning_rate=1e-3, warmup=50)
COPY_DRILLS = 30000


def train_base(corpus: Sequence[Example], out: Path, *, size: ModelSize = ModelSize(),
               settings: TrainSettings = BASE_SETTINGS, drills: int = COPY_DRILLS, vocab_size: int = 3072,
               log: Callable[[str], None] = print) -> Path:
    """Train tokenizer and model on `corpus` plus `drills` copy drills and save them to `out`; returns `out`."""
    texts = [example.text for example in corpus]
    tokenizer = train_tokenizer(texts, vocab_size=vocab_size)
    log(f"tokenizer: {len(tokenizer)} tokens")
    model = new_model(tokenizer, size, seed=settings.seed)
    log(f"model: {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters")
    rng = random.Random(settings.seed)
    documents = [document(tokenizer, text, mask_results=False) for text in texts]
    words = drill_words(corpus)
    words += piece_words(tokenizer, rng, len(words))
    documents += [document(tokenizer, copy_example(rng, words).text, answer_only=True) for _ in range(drills)]
    log(f"training on {len(texts)} documents and {drills} copy drills")
    train(model, documents, pad_id=tokenizer.pad_token_id, settings=settings, log=log)
    save_model(model, tokenizer, Path(out))
    return Path(out)
