"""Which of two images the designer preferred: pairs of images of one request with a clear choice between them.

Two images belong to one request when they were made from the same prompt, settings and control maps (the
images of one batch, and those of its re-runs with other seeds). Within a request, image A is preferred to B
when A was accepted and B rejected, or, when the verdicts do not decide, both were rated and A has more stars.
Images without such a difference make no pair. The training presets (`--format preference`) and the scorer read
the same pairs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from studio.history import results
from studio.history.results import ResultImage


@dataclass(frozen=True)
class Pair:
    """`better` was preferred to `worse`; `group` names their request."""

    better: ResultImage
    worse: ResultImage
    group: str


def request_key(image: ResultImage) -> str:
    """The request an image was made for, without its seed and batch size."""
    return results.request_key(image.request)


def preferred(a: ResultImage, b: ResultImage) -> int:
    """1 when the designer preferred `a`, -1 when `b`, 0 when their feedback does not say."""
    if a.verdict is not None and b.verdict is not None and a.verdict != b.verdict:
        return 1 if a.verdict == "accept" else -1
    if a.rating is not None and b.rating is not None and a.rating != b.rating:
        return 1 if a.rating > b.rating else -1
    return 0


def groups(images: Iterable[ResultImage]) -> dict[str, list[ResultImage]]:
    """Images by request, in log order."""
    found: dict[str, list[ResultImage]] = {}
    for image in images:
        found.setdefault(request_key(image), []).append(image)
    return found


def preference_pairs(images: Iterable[ResultImage], *, prefix: str = "") -> list[Pair]:
    """Every pair of images of one request with a preference (`prefix` keeps groups of documents apart)."""
    pairs = []
    for key, members in groups(images).items():
        for i, a in enumerate(members):
            for b in members[i + 1:]:
                choice = preferred(a, b)
                if choice:
                    pairs.append(Pair(a, b, prefix + key) if choice > 0 else Pair(b, a, prefix + key))
    return pairs
