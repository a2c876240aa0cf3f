"""Math word problems (SVAMP and MAWPS, from the shared data) as questions with `The answer is N.` replies."""

from __future__ import annotations

from fractions import Fraction

from studio.assistant.calculator import format_number
from studio.assistant.train.examples import Example
from studio.assistant.train.sources import WordProblem


def word_example(problem: WordProblem) -> Example:
    value = format_number(Fraction(str(problem.target)))
    return Example(kind=f"word:{problem.source}", question=problem.question, answer=f"The answer is {value}.",
                   expected=value)
