"""Copy drills: "Repeat: 4821 Friday 7.5 March" answered with the same items.

A model of a few million parameters learns to copy (the induction behaviour that lets it use a tool's result,
or keep a request's numbers in a call) only after many examples, and fastest over a small alphabet: these short
documents repeat numbers and the names of weekdays and months, the things tool results are made of, and words
of prompt subjects, which a prompt must keep. They are plain text without calls.

Words of new requests are often split into rare tokens (`castro` into pieces seen a few times in the corpus);
`piece_words` makes drill words out of random tokenizer pieces, so that copying is learned for every token of
the vocabulary, not only for the frequent ones. Most drill items are such words: with 40 % numbers, the model's
copy of a word's later pieces drifted to digit tokens (`retro arcade` -> `retro39ade`); the corpus has numbers
to copy in every design and date document.
"""

from __future__ import annotations

import random
from collections.abc import Sequence

from studio.assistant.calendar import MONTHS, WEEKDAYS
from studio.assistant.train.examples import Example

OPENERS = ("Repeat:", "Say back:", "Echo:", "Copy this:", "Read back:")
NAMES = WEEKDAYS + MONTHS


def _item(rng: random.Random, words: Sequence[str]) -> str:
    roll = rng.random()
    if roll < 0.22:
        return str(rng.randint(0, 10 ** rng.randint(1, 7)))
    if roll < 0.32:
        return f"{rng.randint(0, 9999)}.{rng.randint(1, 99)}"
    if roll < 0.42 or not words:
        return rng.choice(NAMES)
    return rng.choice(words)


def copy_example(rng: random.Random, words: Sequence[str] = ()) -> Example:
    """A drill of one to six items: numbers, weekday and month names, and `words` (e.g. subject words)."""
    items = " ".join(_item(rng, words) for _ in range(rng.randint(1, 6)))
    return Example(kind="copy", question=f"{rng.choice(OPENERS)} {items}", answer=items, expected=items)


def piece_words(tokenizer, rng: random.Random, count: int) -> list[str]:
    """`count` made-up words, each two or three random letter pieces of `tokenizer`'s vocabulary joined."""
    pieces = sorted({text.strip() for text in tokenizer.batch_decode([[i] for i in range(len(tokenizer))])
                     if text.strip().isalpha() and text.strip().isascii()})
    return ["".join(rng.choice(pieces) for _ in range(rng.randint(2, 3))).lower() for _ in range(count)]


def drill_words(examples: Sequence[Example]) -> list[str]:
    """The subject words of the prompt-writing examples among `examples`, sorted."""
    return sorted({word for e in examples if e.kind == "prompt" for word in e.expected.split()})
