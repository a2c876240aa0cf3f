"""Requests about the current settings, as the chat panel asks them: a `Current settings: …` turn (see
`prompting.settings_line`) before the message. A follow-up ("make it wider", "more like a watercolor", "avoid
text") is answered with all three fields, changed as asked and otherwise kept; any other request after the
settings turn is answered as if it came alone, so that the model learns to read the settings only when asked to.
"""

from __future__ import annotations

import random

from studio.assistant.prompting import USER, settings_line
from studio.assistant.train.examples import Example
from studio.assistant.train.prompt_writing import FORMATS
from studio.assistant.train.sources import SharedData

SEPARATOR = f"\n{USER} "  # between the settings turn and the request, in an example's question
MAX_SIDE = 1536


def _round8(value: float) -> int:
    return max(64, int(round(value / 8)) * 8)


def _fields(answer: str) -> tuple[list[str], list[str], int, int]:
    lines = dict(line.split(": ", 1) for line in answer.splitlines())
    width, height = (int(v) for v in lines["Size"].split(" x "))
    return lines["Prompt"].split(", "), lines["Negative prompt"].split(", "), width, height


def _answer(parts: list[str], negatives: list[str], width: int, height: int) -> str:
    return f"Prompt: {', '.join(parts)}\nNegative prompt: {', '.join(negatives)}\nSize: {width} x {height}"


def _wider(rng, parts, negatives, width, height, data):
    if width > height:
        return None
    request = rng.choice(("make it wider", "Make it wider, please.", "landscape format instead",
                          "can you make it landscape?", "I need it wider"))
    size = (height, width) if width < height else (min(MAX_SIDE, _round8(width * 1.5)), height)
    return request, parts, negatives, size


def _taller(rng, parts, negatives, width, height, data):
    if width < height:
        return None
    request = rng.choice(("make it taller", "Make it taller, please.", "portrait format instead",
                          "can you make it portrait?", "I need it taller"))
    size = (height, width) if width > height else (width, min(MAX_SIDE, _round8(height * 1.5)))
    return request, parts, negatives, size


def _square(rng, parts, negatives, width, height, data):
    if width == height:
        return None
    request = rng.choice(("make it square", "square format, please", "can it be 1:1?", "I need a square image"))
    side = min(1024, max(width, height))
    return request, parts, negatives, (side, side)


def _exact_size(rng, parts, negatives, width, height, data):
    size = rng.choice(((640, 480), (1024, 768), (800, 600), (768, 1344), (1216, 832), (960, 540), (512, 512),
                       (832, 1216), (1080, 1352), (1920, 1080)))
    request = rng.choice(("make it {w} x {h}", "change the size to {w} x {h}", "{w} x {h} please",
                          "can you do {w} x {h}?")).format(w=size[0], h=size[1])
    return request, parts, negatives, size


def _add_style(rng, parts, negatives, width, height, data):
    style = rng.choice(data.mediums + data.movements + data.flavors[:60])
    if style in parts:
        return None
    request = rng.choice(("more like {s}", "add {s}", "make it look like {s}", "{s} style, please",
                          "can you add {s}?", "I want {s} too")).format(s=style)
    return request, parts + [style], negatives, (width, height)


def _remove_part(rng, parts, negatives, width, height, data):
    if len(parts) < 3:
        return None
    part = rng.choice(parts[1:])
    request = rng.choice(("remove {p}", "drop {p}", "no {p}, please", "take out {p}",
                          "without {p}")).format(p=part)
    return request, [p for p in parts if p != part], negatives, (width, height)


def _avoid(rng, parts, negatives, width, height, data):
    negative = rng.choice(data.negatives)
    if negative in negatives:
        return None
    request = rng.choice(("avoid {n}", "I don't want {n}", "add {n} to the negative prompt",
                          "make sure there is no {n}")).format(n=negative)
    return request, parts, negatives + [negative], (width, height)


def _format(rng, parts, negatives, width, height, data):
    fmt = rng.choice([name for name in FORMATS if name not in ("portrait", "landscape")])  # see _wider, _taller
    article = "an" if fmt[0] in "aeiou" else "a"
    first = parts[0]
    for old in FORMATS:
        for old_article in ("a", "an"):
            if first.startswith(f"{old_article} {old} of "):
                first = f"{article} {fmt} of " + first[len(f"{old_article} {old} of "):]
    request = rng.choice(("make it {a} {f}", "turn it into {a} {f}", "now as {a} {f}",
                          "I need it as {a} {f}")).format(a=article, f=fmt)
    return request, [first] + parts[1:], negatives, FORMATS[fmt]


EDITS = (_wider, _taller, _square, _exact_size, _add_style, _remove_part, _avoid, _format)


def followup_example(rng: random.Random, settings: Example, data: SharedData) -> Example:
    """A follow-up request on the settings of the prompt-writing example `settings`, and its answer."""
    parts, negatives, width, height = _fields(settings.answer)
    edit = None
    while edit is None:
        edit = rng.choice(EDITS)(rng, parts, negatives, width, height, data)
    request, new_parts, new_negatives, (new_width, new_height) = edit
    line = settings_line(", ".join(parts), ", ".join(negatives), width, height)
    answer = _answer(new_parts, new_negatives, new_width, new_height)
    return Example(kind="followup", question=line + SEPARATOR + request, answer=answer, expected=answer)


def in_context(settings: Example, example: Example) -> Example:
    """`example` asked after the settings turn of the prompt-writing example `settings`; its answer unchanged."""
    parts, negatives, width, height = _fields(settings.answer)
    line = settings_line(", ".join(parts), ", ".join(negatives), width, height)
    return Example(kind=example.kind, question=line + SEPARATOR + example.question, answer=example.answer,
                   expected=example.expected, today=example.today)
