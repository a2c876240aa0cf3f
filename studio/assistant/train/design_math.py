"""Design arithmetic questions (print sizes, aspect ratios, resizing, prices, grids) with plain answers.

Each task draws realistic numbers, words a question from one of its templates and answers with the exact
Calculator result written where a designer would read it (`It is 7200 pixels wide.`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from collections.abc import Callable

from studio.assistant.calculator import calculate
from studio.assistant.train.examples import Example

DPI = (72, 96, 150, 200, 240, 300, 350, 600)
RATIOS = ((16, 9), (4, 3), (3, 2), (5, 4), (21, 9), (2, 1), (3, 1), (4, 5), (9, 16), (2, 3))


@dataclass(frozen=True)
class Task:
    """One kind of question: a sampler of named numbers, the expression, question and answer templates."""

    name: str
    sample: Callable[[random.Random], dict]
    expression: str
    questions: tuple[str, ...]
    answer: str


def _money(rng: random.Random, low: int, high: int) -> str:
    value = rng.randint(low, high)
    return f"{value}" if rng.random() < 0.6 else f"{value}.{rng.choice(['50', '25', '75', '99', '95'])}"


def _ratio(rng: random.Random) -> dict:
    a, b = rng.choice(RATIOS)
    return {"a": a, "b": b}


TASKS = (
    Task("print_pixels", lambda r: {"inches": r.randint(2, 40), "dpi": r.choice(DPI)}, "{inches} * {dpi}",
         ("A print is {inches} inches wide at {dpi} dpi. How many pixels wide is it?",
          "How many pixels do I need for a {inches} inch wide print at {dpi} dpi?",
          "At {dpi} dpi, how many pixels wide is a {inches} inch poster?"),
         "It is {v} pixels wide."),
    Task("print_inches", lambda r: {"px": r.randrange(400, 8001, 50), "dpi": r.choice(DPI)}, "{px} / {dpi}",
         ("An image is {px} pixels wide. How many inches wide does it print at {dpi} dpi?",
          "How many inches wide is a {px} pixel image printed at {dpi} dpi?",
          "At {dpi} dpi, how wide in inches is an image of {px} pixels?"),
         "It is {v} inches wide."),
    Task("aspect_height", lambda r: {"w": r.randrange(320, 4097, 32), **_ratio(r)}, "{w} * {b} / {a}",
         ("What height fits a {w} pixel wide image at {a}:{b}?",
          "An image is {w} pixels wide with a {a}:{b} aspect ratio. How tall is it?",
          "For a {a}:{b} frame that is {w} pixels wide, what is the height?"),
         "The height is {v} pixels."),
    Task("aspect_width", lambda r: {"h": r.randrange(240, 2161, 24), **_ratio(r)}, "{h} * {a} / {b}",
         ("How wide is a {h} pixel tall image with a {a}:{b} aspect ratio?",
          "A {a}:{b} video frame is {h} pixels tall. What is its width?",
          "What width goes with a height of {h} pixels at {a}:{b}?"),
         "It is {v} pixels wide."),
    Task("resize_height", lambda r: {"w": r.randrange(400, 6001, 100), "h": r.randrange(300, 4001, 100),
                                     "nw": r.randrange(200, 2001, 50)}, "{h} * {nw} / {w}",
         ("A {w} x {h} image is resized to {nw} pixels wide. How tall is it now?",
          "If I scale a {w} by {h} photo down to {nw} pixels wide, what is the new height?",
          "Resize a {w} x {h} picture to a width of {nw} pixels. What height keeps the proportions?"),
         "It is {v} pixels tall."),
    Task("total_price", lambda r: {"n": r.randint(2, 250), "p": _money(r, 1, 90)}, "{n} * {p}",
         ("I order {n} posters at ${p} each. What is the total?",
          "How much do {n} prints cost at ${p} per print?",
          "A client buys {n} stickers for ${p} each. What is the total cost?"),
         "The total is {v} dollars."),
    Task("unit_price", lambda r: {"n": r.randint(2, 100), "t": _money(r, 10, 900)}, "{t} / {n}",
         ("A pack of {n} stock photos costs ${t}. What is the price per photo?",
          "I paid ${t} for {n} icons. How much did each icon cost?",
          "What does one font cost if a bundle of {n} fonts is ${t}?"),
         "Each costs {v} dollars."),
    Task("discount", lambda r: {"p": _money(r, 20, 900), "d": r.randint(2, 19)}, "{p} - {d}",
         ("A font license costs ${p} and there is a ${d} discount. What do I pay?",
          "A tablet costs ${p}. With ${d} off, what is the price?",
          "What is the price of a ${p} brush pack after a ${d} coupon?"),
         "You pay {v} dollars."),
    Task("column_width", lambda r: {"w": r.randrange(320, 2561, 20), "n": r.randint(2, 16)}, "{w} / {n}",
         ("A {w} pixel wide grid has {n} equal columns. How wide is each column?",
          "I split a {w} pixel row into {n} equal parts. How wide is each part?",
          "How wide is one of {n} equal columns in a {w} pixel layout?"),
         "Each column is {v} pixels wide."),
    Task("row_width", lambda r: {"n": r.randint(2, 24), "s": r.choice((16, 24, 32, 48, 64, 96, 128, 256))},
         "{n} * {s}",
         ("I place {n} icons of {s} pixels side by side. How wide is the row?",
          "How wide is a row of {n} tiles that are {s} pixels each?",
          "{n} thumbnails, each {s} pixels wide, sit in one row. What is the total width?"),
         "The row is {v} pixels wide."),
    Task("stack_height", lambda r: {"a": r.randrange(40, 401, 10), "b": r.randrange(200, 3001, 10)}, "{a} + {b}",
         ("A page has a {a} pixel header and a {b} pixel body. What is the total height?",
          "What is the height of a {a} pixel banner on top of a {b} pixel image?",
          "I stack a {a} pixel title bar above {b} pixels of content. How tall is it?"),
         "The total height is {v} pixels."),
    Task("remaining_width", lambda r: {"w": r.randrange(600, 4001, 10), "l": r.randrange(50, 591, 10)},
         "{w} - {l}",
         ("A banner is {w} pixels wide and the logo takes {l} pixels. How much width is left?",
          "How many pixels remain on a {w} pixel wide header after a {l} pixel logo?",
          "A {w} pixel strip holds a {l} pixel button. How much space is left?"),
         "There are {v} pixels left."),
    Task("hours_fee", lambda r: {"h": r.randint(2, 60), "r": r.choice((25, 30, 35, 40, 45, 50, 55, 60, 75, 80, 90,
                                                                        100, 120))}, "{h} * {r}",
         ("A designer works {h} hours at ${r} per hour. What is the fee?",
          "What do I bill for {h} hours of work at ${r} an hour?",
          "An illustrator charges ${r} per hour for {h} hours. How much is that?"),
         "The fee is {v} dollars."),
    Task("pixel_count", lambda r: {"w": r.randrange(64, 4097, 64), "h": r.randrange(64, 4097, 64)}, "{w} * {h}",
         ("How many pixels are in a {w} x {h} image?",
          "What is the pixel count of a {w} by {h} canvas?",
          "A texture is {w} x {h}. How many pixels does it have?"),
         "It has {v} pixels."),
    Task("scale_factor", lambda r: {"o": r.randrange(100, 2001, 20), "n": r.randrange(100, 4001, 20)}, "{n} / {o}",
         ("By what factor do I scale a {o} pixel wide logo to make it {n} pixels wide?",
          "What scale turns a {o} pixel image into a {n} pixel one?",
          "A {o} pixel sketch must become {n} pixels. What is the scale factor?"),
         "The factor is {v}."),
)


def design_example(rng: random.Random, *, hinted: bool = False) -> Example:
    """One design arithmetic question; `hinted` shows the working in brackets before the result
    (`It is [24 * 300 → 7200] 7200 pixels wide.`): plain text, no tool, that teaches the base model to read a
    bracketed result, as a large pretrained model already can."""
    task = rng.choice(TASKS)
    numbers = task.sample(rng)
    expression = task.expression.format(**numbers)
    value = calculate(expression)
    question = rng.choice(task.questions).format(**numbers)
    answer = task.answer.format(v=f"[{expression} → {value}] {value}" if hinted else value)
    return Example(kind="design-hint" if hinted else "design", question=question, answer=answer, expected=value)
