"""Step (e), first half: write the kept calls, with their results, into the documents' text."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from studio.assistant.train.examples import Example
from studio.assistant.train.filtering import KeptCall


def insert_call(text: str, position: int, call_text: str) -> str:
    """`text` with `call_text` inserted at `position`, separated from the words around it by single spaces."""
    before, after = text[:position], text[position:]
    if before and not before.endswith((" ", "\n")):
        before += " "
    if not after.startswith((" ", "\n")):
        call_text += " "
    return before + call_text + after


def merge_calls(examples: Sequence[Example], kept: Sequence[KeptCall]) -> list[Example]:
    """The examples with their kept calls inserted in the answers (examples without calls unchanged)."""
    by_example: dict[int, list[KeptCall]] = defaultdict(list)
    for call in kept:
        by_example[call.index].append(call)
    merged = []
    for index, example in enumerate(examples):
        calls = sorted(by_example.get(index, ()), key=lambda c: c.position, reverse=True)
        if not calls:
            merged.append(example)
            continue
        text = example.text
        prefix_length = len(text) - len(example.answer)
        answer = example.answer
        for call in calls:
            answer = insert_call(answer, call.position - prefix_length, call.call.format())
        merged.append(replace(example, answer=answer))
    return merged
