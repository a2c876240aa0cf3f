"""Step (e), second half: fine-tune the base model on the corpus with the kept calls merged in (tool results
not learned), with copy drills mixed in as in base training so that copying is kept, and date questions
reworded at random (`rephrase`) so that the call a question gets depends on what it asks, not on its template."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from studio.assistant.model import load_model, save_model
from studio.assistant.train.copy_drills import copy_example, drill_words, piece_words
from studio.assistant.train.documents import document
from studio.assistant.train.examples import Example
from studio.assistant.train.lm import TrainSettings, train
from studio.assistant.train.rephrase import reword

FINETUNE_SETTINGS = TrainSettings(epochs=2.0, batch_size=8, block=128, learning_rate=1e-3, warmup=30)
FINETUNE_DRILLS = 20000


def reworded(rng: random.Random, example: Example) -> Example:
    """A date question as fine-tuning reads it: reworded at random (`rephrase`), its answer and calls kept."""
    if example.kind != "date" or "\n" in example.question:
        return example
    return replace(example, question=reword(rng, example.question))


def finetune(base: Path, merged: Sequence[Example], out: Path, *, settings: TrainSettings = FINETUNE_SETTINGS,
             drills: int = FINETUNE_DRILLS, top_k: int | None = None,
             log: Callable[[str], None] = print) -> Path:
    """Fine-tune the model at `base` on `merged` (plus `drills` copy drills) and save the result to `out`, with
    `top_k` (the call rule's k suited to it) in its info file."""
    loaded = load_model(base)
    tokenizer = loaded.tokenizer
    rng = random.Random(settings.seed + 1)
    documents = [document(tokenizer, reworded(rng, example).text) for example in merged]
    words = drill_words(merged)
    words += piece_words(tokenizer, rng, len(words))
    documents += [document(tokenizer, copy_example(rng, words).text, answer_only=True) for _ in range(drills)]
    train(loaded.model, documents, pad_id=tokenizer.pad_token_id, settings=settings, log=log)
    save_model(loaded.model, tokenizer, Path(out), top_k=top_k)
    return Path(out)
