"""Candidate calls for a position, proposed from the text before it.

The paper samples candidate calls from the language model itself with a few-shot prompt. A model of a few
million parameters cannot follow such a prompt, so candidates come from this documented proposer instead;
whether a candidate is KEPT is decided only by the model's loss (`filtering`).

Calculator: expressions over the last `MAX_NUMBERS` distinct numbers in the text (numbers inside dates aside),
of the shapes `a + b`, `a * b`, `a - b`, `b - a`, `a / b`, `b / a` (every pair) and `a * b / c` (every choice
of divisor).
Calendar: `Calendar()`, and for every date phrase D, duration "N units" and weekday W in the text: `D`,
`days until D`, `days since D`, `days from D to E`, `today + N units`, `today - N units`, `D + N units`,
`next W`, `last W`. When there are more than `limit` candidates of a tool, a seeded random sample is kept.
"""

from __future__ import annotations

import random
import re
from itertools import combinations, permutations

from studio.assistant.calendar import MONTHS, NAMED_DAYS, WEEKDAYS
from studio.assistant.calls import ToolCall

MAX_NUMBERS = 4
_NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?")
_MONTH_NAMES = "|".join(MONTHS)
_DATE = re.compile(rf"\b(?:(?:{_MONTH_NAMES}) \d{{1,2}}(?:, \d{{4}})?|\d{{1,2}} (?:{_MONTH_NAMES})(?: \d{{4}})?"
                   rf"|\d{{4}}-\d{{2}}-\d{{2}})\b")
_NAMED = re.compile("|".join(re.escape(name) for name in sorted(NAMED_DAYS, key=len, reverse=True)),
                    re.IGNORECASE)
_DURATION = re.compile(r"\b(\d{1,4}) (day|week|month|year)s?\b")
_WEEKDAY = re.compile(rf"\b({'|'.join(WEEKDAYS)})\b")


def _sample(candidates: list[str], limit: int, rng: random.Random) -> list[str]:
    unique = list(dict.fromkeys(candidates))
    if len(unique) <= limit:
        return unique
    keep = set(rng.sample(range(len(unique)), limit))
    return [c for i, c in enumerate(unique) if i in keep]


def calculator_candidates(text: str, *, limit: int, rng: random.Random) -> list[ToolCall]:
    numbers = list(dict.fromkeys(_NUMBER.findall(_DATE.sub(" ", text))))[-MAX_NUMBERS:]
    expressions: list[str] = []
    for a, b in combinations(numbers, 2):
        expressions += [f"{a} + {b}", f"{a} * {b}", f"{a} - {b}", f"{b} - {a}", f"{a} / {b}", f"{b} / {a}"]
    for a, b, c in permutations(numbers, 3):
        if numbers.index(a) < numbers.index(b):
            expressions.append(f"{a} * {b} / {c}")
    return [ToolCall("Calculator", e) for e in _sample(expressions, limit, rng)]


def calendar_candidates(text: str, *, limit: int, rng: random.Random) -> list[ToolCall]:
    dates = list(dict.fromkeys(_DATE.findall(text) + _NAMED.findall(text)))
    durations = [f"{n} {unit}s" for n, unit in dict.fromkeys(_DURATION.findall(text))]
    weekdays = list(dict.fromkeys(_WEEKDAY.findall(text)))
    arguments = [""]
    for day in dates:
        arguments += [day, f"days until {day}", f"days since {day}"]
        arguments += [f"{day} + {span}" for span in durations]
    for first, second in combinations(dates, 2):
        arguments.append(f"days from {first} to {second}")
    for span in durations:
        arguments += [f"today + {span}", f"today - {span}"]
    for weekday in weekdays:
        arguments += [f"next {weekday}", f"last {weekday}"]
    return [ToolCall("Calendar", a) for a in _sample(arguments, limit, rng)]


def propose_calls(text: str, *, limit: int = 12, rng: random.Random) -> list[ToolCall]:
    """Candidate calls (without results) for a position whose preceding text is `text`."""
    return calculator_candidates(text, limit=limit, rng=rng) + calendar_candidates(text, limit=limit, rng=rng)
