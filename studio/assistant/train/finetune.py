"""Step (e), second half: fine-tune the base model on the corpus with the kept calls merged in."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from studio.assistant.model import load_model, save_model
from studio.assistant.train.documents import document
from studio.assistant.train.examples import Example
from studio.assistant.train.lm import TrainSettings, train

FINETUNE_SETTINGS = TrainSettings(epochs=1.5, learning_rate=1e-3, warmup=30)


def finetune(base: Path, merged: Sequence[Example], out: Path, *, settings: TrainSettings = FINETUNE_SETTINGS,
             log: Callable[[str], None] = print) -> Path:
    """Fine-tune the model at `base` on `merged` and save the result to `out`."""
    loaded = load_model(base)
    tokenizer = loaded.tokenizer
    documents = [document(tokenizer, example.text) for example in merged]
    train(loaded.model, documents, pad_id=tokenizer.pad_token_id, settings=settings, log=log)
    save_model(loaded.model, tokenizer, Path(out))
    return Path(out)
