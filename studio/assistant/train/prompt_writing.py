"""Designer requests for image prompts ("a poster of a red fox in a forest, watercolor") and the replies:
`Prompt:` (the request's subject and style kept, style modifiers added), `Negative prompt:` and `Size: W x H`.

Subjects come from real Stable Diffusion prompts (their first comma-separated part); modifiers and negative terms
from the prompt vocabularies; the size from the format the designer asks for.
"""

from __future__ import annotations

import random
import re

from studio.assistant.train.examples import Example
from studio.assistant.train.sources import SharedData

FORMATS = {
    "poster": (768, 1024), "book cover": (640, 960), "banner": (1024, 384), "wallpaper": (1024, 576),
    "icon": (512, 512), "avatar": (512, 512), "logo": (512, 512), "album cover": (768, 768),
    "social media post": (1024, 1024), "phone wallpaper": (576, 1024), "flyer": (640, 896),
    "postcard": (768, 512), "thumbnail": (768, 432), "sticker": (512, 512), "card": (512, 768),
    "header image": (1024, 320), "portrait": (512, 768), "landscape": (768, 512),
}
DEFAULT_SIZE = (512, 512)
REQUESTS = (
    "{subject}",
    "{subject}, {style}",
    "a {format} of {subject}",
    "a {format} of {subject}, {style}",
    "make a {format} of {subject}",
    "write a prompt for {subject}",
    "write a prompt for a {format} of {subject}, {style}",
    "I need a {format}: {subject}",
    "prompt for {subject} in {style} style",
    "can you make a {format} showing {subject}?",
    "{subject} as a {format}",
    "{subject} at {width} x {height}",
)
STOP_WORDS = {"a", "an", "the", "of", "in", "on", "at", "and", "with", "for", "to", "by", "as", "is", "from",
              "into", "over", "under", "his", "her", "its", "their"}


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _pick_format(rng: random.Random) -> str:
    return rng.choice(tuple(FORMATS))


def _modifiers(rng: random.Random, data: SharedData, avoid: str) -> list[str]:
    pool = data.flavors if rng.random() < 0.7 else data.mediums + data.movements
    count = rng.randint(2, 4)
    chosen: list[str] = []
    while len(chosen) < count:
        term = rng.choice(pool)
        if term not in chosen and term not in avoid:
            chosen.append(term)
    return chosen


def subject_words(text: str) -> list[str]:
    """The content words of a request: what a prompt written for it must keep."""
    return [word for word in re.findall(r"[a-z0-9']+", text.lower()) if word not in STOP_WORDS]


def prompt_example(rng: random.Random, data: SharedData, subject: str, *, style: str | None = None) -> Example:
    """A prompt-writing request for `subject` and its reply."""
    template = rng.choice(REQUESTS)
    fmt = _pick_format(rng) if "{format}" in template else None
    style = style or rng.choice(data.mediums + data.movements + data.flavors[:60])
    width, height = FORMATS[fmt] if fmt else DEFAULT_SIZE
    if "{width}" in template:
        width, height = rng.choice(((640, 480), (1024, 768), (800, 600), (768, 1344), (1216, 832), (960, 540)))
    request = template.format(subject=subject, style=style, format=fmt, width=width, height=height)
    if fmt:
        request = request.replace(f"a {fmt}", f"{_article(fmt)} {fmt}")
    kept = f"{_article(fmt)} {fmt} of {subject}" if fmt else subject
    parts = [kept] + ([style] if "{style}" in template else []) + _modifiers(rng, data, kept)
    negatives = rng.sample(data.negatives, rng.randint(2, 4))
    answer = f"Prompt: {', '.join(parts)}\nNegative prompt: {', '.join(negatives)}\nSize: {width} x {height}"
    expected_text = subject + (f" {style}" if "{style}" in template else "")
    return Example(kind="prompt", question=request, answer=answer, expected=" ".join(subject_words(expected_text)))
