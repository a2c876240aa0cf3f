"""The unit of training and evaluation data: one question, its plain answer, and what counts as correct."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

from studio.assistant.errors import AssistantError
from studio.assistant.prompting import format_document


@dataclass
class Example:
    """A question with a plain answer (no calls).

    `kind` is the generator ("design", "date", "prompt", "word", ...), `today` the ISO date the answer assumes
    (date questions), `expected` what a correct reply contains: a number, a date text, a weekday, or for
    prompt requests the subject words separated by spaces.
    """

    kind: str
    question: str
    answer: str
    expected: str = ""
    today: str | None = None

    @property
    def text(self) -> str:
        return format_document(self.question, self.answer)

    def to_json(self) -> dict:
        return asdict(self)


def write_examples(path: Path, examples: Iterable[Example]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for example in examples:
            handle.write(json.dumps(example.to_json(), ensure_ascii=False) + "\n")
            count += 1
    return count


def read_examples(path: Path) -> Iterator[Example]:
    """Examples from a JSONL file; a missing file or a bad line is an AssistantError naming the line."""
    try:
        handle = Path(path).open(encoding="utf-8")
    except OSError as exc:
        raise AssistantError(f"Cannot read {path}: {exc.strerror}.") from exc
    with handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                yield Example(**json.loads(line))
            except (ValueError, TypeError) as exc:
                raise AssistantError(f"Line {number} of {path} is not a valid example: {exc}.") from exc
