"""The plain-text training corpus (no calls) and the held-out evaluation sets, from the generators and the
shared data. Training and evaluation never share a question: real prompts and word problems are split by a
stable hash (`sources.split_of`), date questions use held-out phrasings, and any generated evaluation question
that also occurs in training is dropped."""

from __future__ import annotations

import random
from dataclasses import dataclass

from studio.assistant.train.copy_drills import copy_example
from studio.assistant.train.dates import date_example
from studio.assistant.train.design_math import design_example
from studio.assistant.train.examples import Example
from studio.assistant.train.followups import followup_example, in_context
from studio.assistant.train.prompt_writing import prompt_example
from studio.assistant.train.sources import SharedData, split_of, subject_of
from studio.assistant.train.word_problems import word_example


@dataclass(frozen=True)
class CorpusSizes:
    """How many documents of each kind the corpus holds (word problems: all of the training split)."""

    prompt: int = 6500
    design: int = 4000
    design_hint: int = 1000
    date: int = 6000
    date_hint: int = 1200
    followup: int = 1500  # requests about the current settings ("make it wider")
    in_context: int = 1000  # other requests asked after a settings turn
    copy: int = 0  # copy drills in the corpus itself (the base model gets its own, see `base`)
    word_problems: bool = True


@dataclass(frozen=True)
class EvalSizes:
    design: int = 150
    date: int = 150
    prompt: int = 150
    followup: int = 150
    word_per_set: int = 100


def _subjects(prompts: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for prompt in prompts:
        subject = subject_of(prompt)
        if subject:
            seen.setdefault(subject, None)
    return list(seen)


def train_subjects(data: SharedData) -> list[str]:
    return [s for s in _subjects(data.train_prompts) if split_of(s, eval_share=0.0) == "train"]


def eval_subjects(data: SharedData) -> list[str]:
    training = set(train_subjects(data))
    return [s for s in _subjects(data.eval_prompts) if s not in training]


def build_corpus(data: SharedData, *, seed: int = 0, sizes: CorpusSizes = CorpusSizes()) -> list[Example]:
    """The shuffled plain-text corpus."""
    rng = random.Random(seed)
    subjects = train_subjects(data)
    examples = [prompt_example(rng, data, rng.choice(subjects)) for _ in range(sizes.prompt)]
    examples += [design_example(rng) for _ in range(sizes.design)]
    examples += [design_example(rng, hinted=True) for _ in range(sizes.design_hint)]
    examples += [date_example(rng) for _ in range(sizes.date)]
    examples += [date_example(rng, hinted=True) for _ in range(sizes.date_hint)]
    for _ in range(sizes.followup):
        examples.append(followup_example(rng, prompt_example(rng, data, rng.choice(subjects)), data))
    for _ in range(sizes.in_context):
        settings = prompt_example(rng, data, rng.choice(subjects))
        other = rng.choice((design_example, date_example, lambda r: prompt_example(r, data, r.choice(subjects))))
        examples.append(in_context(settings, other(rng)))
    examples += [copy_example(rng) for _ in range(sizes.copy)]
    if sizes.word_problems:
        examples += [word_example(p) for p in data.problems if split_of(p.question) == "train"]
    rng.shuffle(examples)
    return examples


def build_eval_sets(data: SharedData, *, training: list[Example], seed: int = 1,
                    sizes: EvalSizes = EvalSizes()) -> dict[str, list[Example]]:
    """Held-out sets by name: "design", "date", "prompt", "followup" and one per word-problem source."""
    rng = random.Random(seed + 1_000_003)
    seen = {example.question for example in training}

    def fresh(make, count: int) -> list[Example]:
        found: list[Example] = []
        for _ in range(count * 20):
            example = make()
            if example.question not in seen:
                seen.add(example.question)
                found.append(example)
                if len(found) == count:
                    break
        return found

    subjects = eval_subjects(data)
    sets = {
        "design": fresh(lambda: design_example(rng), sizes.design),
        "date": fresh(lambda: date_example(rng, held_out=True), sizes.date),
        "prompt": fresh(lambda: prompt_example(rng, data, rng.choice(subjects)), sizes.prompt),
        "followup": fresh(lambda: followup_example(rng, prompt_example(rng, data, rng.choice(subjects)), data),
                          sizes.followup),
    }
    for source in dict.fromkeys(p.source for p in data.problems):
        held = [word_example(p) for p in data.problems if p.source == source and split_of(p.question) == "eval"]
        sets[source] = [e for e in held if e.question not in seen][: sizes.word_per_set]
    return sets
