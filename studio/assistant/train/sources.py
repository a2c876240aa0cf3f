"""Reading the shared data folder (`../shared/data`): prompt vocabularies, real prompts and math word problems.

Every record is assigned to "train" or "eval" by a stable hash of its text, so that evaluation data is never
used for training, whatever the seed.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from studio.assistant.errors import AssistantError

MATH_SETS = ("svamp", "mawpsaddsub", "mawpssingleop", "mawpssingleeq", "mawpsmultiarith")
EVAL_SHARE = 0.3
_SUBJECT_CHARS = re.compile(r"[a-z][a-z0-9' -]*")


def split_of(text: str, *, eval_share: float = EVAL_SHARE) -> str:
    """"eval" for a stable `eval_share` of texts, "train" for the rest."""
    digest = int(hashlib.sha256(text.strip().lower().encode("utf-8")).hexdigest()[:8], 16)
    return "eval" if digest / 0xFFFFFFFF < eval_share else "train"


@dataclass(frozen=True)
class WordProblem:
    source: str
    question: str
    target: float


@dataclass
class SharedData:
    """What the generators use from the shared data folder."""

    flavors: list[str]
    mediums: list[str]
    movements: list[str]
    negatives: list[str]
    train_prompts: list[str]
    eval_prompts: list[str]
    problems: list[WordProblem]


def _lines(path: Path, limit: int | None = None) -> list[str]:
    try:
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except OSError as exc:
        raise AssistantError(f"Cannot read {path}: {exc.strerror}.") from exc
    return lines[:limit] if limit else lines


def _json(path: Path) -> list[dict]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AssistantError(f"Cannot read {path} as JSON: {exc}.") from exc


def read_word_problems(folder: Path) -> list[WordProblem]:
    problems = []
    for name in MATH_SETS:
        path = folder / f"{name}.jsonl"
        for number, line in enumerate(_lines(path), 1):
            try:
                record = json.loads(line)
                problems.append(WordProblem(name, " ".join(str(record["input"]).split()), float(record["target"])))
            except (ValueError, KeyError, TypeError) as exc:
                raise AssistantError(f"Line {number} of {path} is not a word problem: {exc}.") from exc
    return problems


def load_shared_data(folder: Path | str, *, flavor_limit: int = 400) -> SharedData:
    """Load the shared data folder; a missing or malformed file is an AssistantError naming it."""
    folder = Path(folder)
    if not folder.is_dir():
        raise AssistantError(f"No data folder at {folder}.")
    vocab = folder / "prompt-vocab"
    prompts = folder / "prompts"
    train_texts = [record.get("text", "") for record in _json(prompts / "refl_data.json")]
    eval_texts = [record.get("prompt", "") for record in _json(prompts / "benchmark-prompts.json")]
    eval_texts += [record.get("prompt", "") for record in _json(prompts / "test.json")]
    return SharedData(
        flavors=_lines(vocab / "flavors.txt", flavor_limit),
        mediums=_lines(vocab / "mediums.txt"),
        movements=_lines(vocab / "movements.txt"),
        negatives=_lines(vocab / "negative.txt"),
        train_prompts=train_texts,
        eval_prompts=eval_texts,
        problems=read_word_problems(folder / "math"),
    )


def subject_of(prompt: str, *, max_words: int = 8) -> str | None:
    """The subject phrase of a real prompt (its first comma-separated part), or None when it is unusable."""
    head = " ".join(prompt.split(",")[0].lower().split())
    words = head.split()
    if not 2 <= len(words) <= max_words or not _SUBJECT_CHARS.fullmatch(head):
        return None
    if words[0] in ("by", "and", "with") or head.endswith((" of", " and", " with", " by", " the", " a")):
        return None
    return head
