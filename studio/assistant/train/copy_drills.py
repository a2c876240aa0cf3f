"""Copy drills: "Repeat: 4821 cobalt 7.5 fox" answered with the same items.

A model of a few million parameters learns to copy (the induction behaviour that lets it use a tool's result,
or keep a request's subject words in a prompt) only after many examples; these short documents give it many
copies per training step. They are plain text without calls.
"""

from __future__ import annotations

import random

from studio.assistant.train.examples import Example

OPENERS = ("Repeat:", "Say back:", "Echo:", "Copy this:", "Read back:")


def _item(rng: random.Random, words: list[str]) -> str:
    roll = rng.random()
    if roll < 0.45:
        return str(rng.randint(0, 10 ** rng.randint(1, 6)))
    if roll < 0.6:
        return f"{rng.randint(0, 9999)}.{rng.randint(1, 99)}"
    return rng.choice(words)


def copy_example(rng: random.Random, words: list[str]) -> Example:
    items = " ".join(_item(rng, words) for _ in range(rng.randint(1, 6)))
    return Example(kind="copy", question=f"{rng.choice(OPENERS)} {items}", answer=items, expected=items)
