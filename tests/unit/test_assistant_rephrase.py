"""Rewordings of date questions in fine-tuning: the meaning stays, and what fine-tuning reads stays worded unlike
the held-out phrasings."""

import random
import re
from dataclasses import replace

from studio.assistant.calendar import MONTHS, WEEKDAYS
from studio.assistant.train.dates import DATE_TASKS, HOLIDAY_NAMES, date_example
from studio.assistant.train.finetune import reworded
from studio.assistant.train.rephrase import reword

NAMES = {w.lower() for w in MONTHS + WEEKDAYS}


def words(text: str) -> set[str]:
    """The words of a phrasing or a question, without its slots (dates, durations, weekdays, holidays)."""
    for holiday in HOLIDAY_NAMES:
        text = text.replace(holiday, "")
    text = re.sub(r"\{\w+\}|\d+ (?:day|week|month)s\b", "", text).lower()
    return set(re.findall(r"[a-z']+", text)) - NAMES


def test_rewording_keeps_dates_numbers_and_names_whole():
    rng = random.Random(0)
    question = "What date is 12 days after March 5, 2027, counting from New Year's Day?"
    for _ in range(300):
        text = reword(rng, question)
        for piece in ("12 days", "March 5, 2027", "New Year's Day"):
            assert piece in text, text


def test_rewording_changes_some_questions_and_leaves_others():
    rng = random.Random(1)
    question = "Which date is 3 weeks from today?"
    changed = sum(reword(rng, question) != question for _ in range(400))
    assert 120 < changed < 280


def test_training_questions_stay_unlike_the_held_out_phrasings():
    """No date question as fine-tuning reads it shares more than 60 % of its words (slots aside) with a held-out
    phrasing."""
    held = [words(p) for task in DATE_TASKS for p in task.held_out]
    rng = random.Random(2)
    for _ in range(3000):
        question = words(reworded(rng, date_example(rng)).question)
        closest = max(len(question & h) / len(question | h) for h in held)
        assert closest <= 0.6, (question, closest)


def test_only_single_date_questions_are_reworded():
    rng = random.Random(3)
    example = date_example(rng)
    settings_turn = replace(example, question="Current settings: Size: 512 x 512.\nUser: " + example.question)
    design = replace(example, kind="design")
    for _ in range(50):
        assert reworded(rng, settings_turn) == settings_turn and reworded(rng, design) == design
        assert reworded(rng, example).answer == example.answer
