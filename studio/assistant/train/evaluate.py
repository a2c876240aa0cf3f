"""Evaluation like the paper's tables: accuracy of each model on each held-out set.

Scoring: design arithmetic and word problems - the first number of the visible answer equals the expected
value (to 0.01). Date questions - the first weekday, first number, or first `Month D, YYYY` date of the visible
answer (whichever the question asks for) equals the expected one. Prompt writing - the reply has a `Prompt:`
field that keeps every subject word of the request, adds at least one style modifier, and has no repetition loop
(no comma-separated part twice, no word 4-gram twice); a second figure counts replies whose three fields are all
there, with the size the request asked for (its format's size, or the one it named). Follow-ups (a request
after the current settings) - the reply's fields equal the expected ones (prompt and negative prompt compared
part by part, in order).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from studio.assistant.assistant import Assistant
from studio.assistant.calendar import MONTHS, WEEKDAYS
from studio.assistant.prompting import Message
from studio.assistant.reply import Reply, parse_fields
from studio.assistant.train.examples import Example
from studio.assistant.train.followups import SEPARATOR
from studio.assistant.train.prompt_writing import subject_words

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")
_WEEKDAY = re.compile(rf"\b({'|'.join(WEEKDAYS)})\b")
_DATE = re.compile(rf"\b(?:{'|'.join(MONTHS)}) \d{{1,2}}, \d{{4}}\b")
NEW_TOKENS = {"prompt": 80, "followup": 80, "date": 48, "design": 40}
WORD_TOKENS = 40


def first_number(text: str) -> Fraction | None:
    match = _NUMBER.search(text.replace(",", ""))
    return Fraction(match.group()) if match else None


def has_loop(prompt: str) -> bool:
    """True when a comma-separated part or a word 4-gram occurs twice."""
    parts = [p.strip().lower() for p in prompt.split(",") if p.strip()]
    words = prompt.lower().replace(",", " ").split()
    grams = [tuple(words[i:i + 4]) for i in range(len(words) - 3)]
    return len(parts) != len(set(parts)) or len(grams) != len(set(grams))


@dataclass
class PromptScore:
    kept: bool
    modifiers: bool
    no_loop: bool

    @property
    def correct(self) -> bool:
        return self.kept and self.modifiers and self.no_loop


def score_prompt(example: Example, reply: Reply) -> PromptScore:
    fields = reply.fields
    if fields is None:
        return PromptScore(False, False, False)
    words = set(subject_words(fields.prompt))
    kept = all(word in words for word in example.expected.split())
    request_parts = len([p for p in example.question.split(",") if p.strip()])
    modifiers = len([p for p in fields.prompt.split(",") if p.strip()]) > request_parts
    return PromptScore(kept, modifiers, not has_loop(fields.prompt))


def complete_fields(example: Example, reply: Reply) -> bool:
    """The reply has a prompt, a negative prompt, and the size the request asked for."""
    fields, expected = reply.fields, parse_fields(example.answer)
    return (fields is not None and expected is not None and bool(fields.negative)
            and (fields.width, fields.height) == (expected.width, expected.height))


def _same_fields(got, expected) -> bool:
    def parts(text: str) -> list[str]:
        return [" ".join(p.lower().split()) for p in text.split(",") if p.strip()]

    return (parts(got.prompt) == parts(expected.prompt) and parts(got.negative) == parts(expected.negative)
            and (got.width, got.height) == (expected.width, expected.height))


def conversation_of(question: str) -> list[Message]:
    """The user messages of an example's question (a follow-up's settings turn, then the request)."""
    return [Message("user", text) for text in question.split(SEPARATOR)]


def is_correct(example: Example, reply: Reply) -> bool:
    """Whether `reply` answers `example` (see the module docstring)."""
    answer = reply.answer
    if example.kind == "prompt":
        return score_prompt(example, reply).correct
    if example.kind == "followup":
        return reply.fields is not None and _same_fields(reply.fields, parse_fields(example.expected))
    expected = example.expected
    if expected in WEEKDAYS:
        match = _WEEKDAY.search(answer)
        return bool(match) and match.group(1) == expected
    if _DATE.fullmatch(expected):
        match = _DATE.search(answer)
        return bool(match) and match.group() == expected
    value = first_number(answer)
    return value is not None and abs(value - Fraction(expected)) <= Fraction(1, 100)


@dataclass
class SetResult:
    name: str
    correct: int = 0
    total: int = 0
    kept_words: int = 0
    complete: int = 0

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0


def evaluate_set(assistant: Assistant, name: str, examples: Sequence[Example], *, tools: bool) -> SetResult:
    result = SetResult(name)
    for example in examples:
        today = date.fromisoformat(example.today) if example.today else None
        tokens = NEW_TOKENS.get(example.kind, WORD_TOKENS)
        reply = assistant.generate_reply(conversation_of(example.question), today=today, tools=tools,
                                         max_new_tokens=tokens)
        result.total += 1
        result.correct += is_correct(example, reply)
        if example.kind == "prompt":
            result.kept_words += score_prompt(example, reply).kept
            result.complete += complete_fields(example, reply)
    return result


def evaluate_models(models: dict[str, tuple[Assistant, bool]], sets: dict[str, list[Example]], *,
                    log: Callable[[str], None] = print) -> dict[str, dict[str, SetResult]]:
    """Results by model label, then by set name; `models` maps labels to (assistant, tools enabled)."""
    results: dict[str, dict[str, SetResult]] = {}
    for label, (assistant, tools) in models.items():
        started = time.monotonic()
        results[label] = {name: evaluate_set(assistant, name, examples, tools=tools)
                          for name, examples in sets.items()}
        log(f"evaluated {label} in {time.monotonic() - started:.0f} s")
    return results


def format_table(results: dict[str, dict[str, SetResult]]) -> str:
    """A Markdown table: one row per set, one column per model, accuracy in percent (and n)."""
    labels = list(results)
    names = list(next(iter(results.values())))
    lines = ["| set | n | " + " | ".join(labels) + " |", "| --- | ---: |" + " ---: |" * len(labels)]
    for name in names:
        total = results[labels[0]][name].total
        cells = [f"{100 * results[label][name].accuracy:.1f}" for label in labels]
        lines.append(f"| {name} | {total} | " + " | ".join(cells) + " |")
        if name == "prompt":
            kept = [f"{100 * results[label][name].kept_words / max(1, total):.1f}" for label in labels]
            lines.append(f"| prompt: subject words kept | {total} | " + " | ".join(kept) + " |")
            complete = [f"{100 * results[label][name].complete / max(1, total):.1f}" for label in labels]
            lines.append(f"| prompt: all three fields, size as asked | {total} | " + " | ".join(complete) + " |")
    return "\n".join(lines)
