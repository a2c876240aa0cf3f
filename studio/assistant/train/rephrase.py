"""Small random rewordings of generated questions (fine-tuning reads its date questions so), so that a small
model keys on what a question is about (a date, a number of days, a weekday, two dates) rather than on the exact
wording of the few templates it was trained on.

In the manner of "easy data augmentation" (Wei and Zou, 2019): a question may get a filler word at a random
place, lose one light word, start in lower case or lose its question mark. Words that carry the
question's meaning (numbers, names of days and months, and the words that say which way and what to count) are
never dropped, and no synonym is swapped in, so a rewording never changes the answer and never borrows the
wording of a held-out phrasing.
"""

from __future__ import annotations

import random

from studio.assistant.calendar import MONTHS, WEEKDAYS

FILLERS = ("please", "just", "quickly", "for me", "actually", "by the way", "again", "roughly")
LIGHT_WORDS = frozenset({"the", "a", "me", "it", "is", "do", "does", "will", "be", "that", "i", "we", "of",
                         "please", "exactly", "tell", "what", "which"})
REWORD_SHARE = 0.5
_SLOT_WORDS = frozenset(MONTHS + WEEKDAYS + ("Christmas", "New", "Year's", "Day", "Halloween", "Valentine's",
                                             "day", "days", "week", "weeks", "month", "months"))


def _bare(word: str) -> str:
    return word.strip(",.:?!")


def _in_slot(word: str) -> bool:
    """Part of a date, a duration or a holiday: nothing goes between two such words."""
    return any(c.isdigit() for c in word) or _bare(word) in _SLOT_WORDS


def reword(rng: random.Random, question: str) -> str:
    """`question`, reworded with probability REWORD_SHARE by one or two of the edits above."""
    if rng.random() >= REWORD_SHARE:
        return question
    words = question.split(" ")
    for _ in range(rng.randint(1, 2)):
        edit = rng.random()
        if edit < 0.4:
            places = [i for i in range(1, len(words)) if not (_in_slot(words[i - 1]) and _in_slot(words[i]))]
            words.insert(rng.choice(places) if places else len(words), rng.choice(FILLERS))
        elif edit < 0.75:
            light = [i for i, word in enumerate(words) if word.lower() in LIGHT_WORDS]
            if light and len(words) > 3:
                del words[rng.choice(light)]
        elif edit < 0.9:
            if not _in_slot(words[0]):
                words[0] = words[0][:1].lower() + words[0][1:]
        else:
            words[-1] = words[-1].rstrip("?.")
    return " ".join(words)
