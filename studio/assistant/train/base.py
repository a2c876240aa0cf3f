"""Step (b): the base model, a tokenizer and a small causal LM trained from scratch on the plain corpus."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from studio.assistant.train.documents import document
from studio.assistant.train.examples import Example
from studio.assistant.train.lm import ModelSize, TrainSettings, new_model, train
from studio.assistant.train.tokenizer import train_tokenizer
from studio.assistant.model import save_model


def train_base(corpus: Sequence[Example], out: Path, *, size: ModelSize = ModelSize(),
               settings: TrainSettings = TrainSettings(), vocab_size: int = 3072,
               log: Callable[[str], None] = print) -> Path:
    """Train tokenizer and model on `corpus` and save them to `out`; returns `out`."""
    texts = [example.text for example in corpus]
    tokenizer = train_tokenizer(texts, vocab_size=vocab_size)
    log(f"tokenizer: {len(tokenizer)} tokens")
    model = new_model(tokenizer, size, seed=settings.seed)
    log(f"model: {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters")
    documents = [document(tokenizer, text, mask_results=False) for text in texts]
    train(model, documents, pad_id=tokenizer.pad_token_id, settings=settings, log=log)
    save_model(model, tokenizer, Path(out))
    return Path(out)
