"""Date questions in the style of the Toolformer paper's Dateset, relative to a per-question `today`.

Each question type has training phrasings and separate evaluation phrasings (`held_out=True`), so that the
evaluation measures questions worded differently from anything in training. Answers restate the Calendar's
result where a reader looks for it (`It will be Sunday, December 6, 2026.`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from collections.abc import Callable
from datetime import date, timedelta

from studio.assistant.calendar import MONTHS, WEEKDAYS, Calendar
from studio.assistant.train.examples import Example

FIRST_DAY = date(2023, 1, 1)
LAST_DAY = date(2029, 12, 31)
HOLIDAY_NAMES = ("Christmas", "New Year's Day", "Halloween", "Valentine's Day")


def written(day: date, *, with_year: bool = True, day_first: bool = False) -> str:
    """A date as people write it: `March 5, 2027`, `March 5` or `5 March 2027`."""
    if day_first:
        return f"{day.day} {MONTHS[day.month - 1]}" + (f" {day.year}" if with_year else "")
    return f"{MONTHS[day.month - 1]} {day.day}" + (f", {day.year}" if with_year else "")


@dataclass(frozen=True)
class DateTask:
    """A question type: a sampler giving the template slots, the Calendar argument, and how to answer."""

    name: str
    sample: Callable[[random.Random, date], dict]
    argument: str
    train: tuple[str, ...]
    held_out: tuple[str, ...]
    answer: str
    expect: str  # "date", "weekday" or "number"


def _shift(rng: random.Random, today: date) -> dict:
    unit = rng.choice(("day", "day", "week", "month"))
    amount = rng.randint(2, {"day": 60, "week": 12, "month": 10}[unit])
    return {"n": amount, "unit": unit + "s"}


def _other_date(rng: random.Random, today: date, *, day_first: bool = False) -> dict:
    day = today + timedelta(days=rng.randint(-400, 400))
    return {"d": written(day, day_first=day_first)}


def _future_date(rng: random.Random, today: date) -> dict:
    day = today + timedelta(days=rng.randint(3, 330))
    with_year = rng.random() < 0.5 or (day.month, day.day) == (2, 29)
    return {"d": written(day, with_year=with_year)}


def _past_date(rng: random.Random, today: date) -> dict:
    day = today - timedelta(days=rng.randint(3, 330))
    return {"d": written(day)}


def _two_dates(rng: random.Random, today: date) -> dict:
    first = today + timedelta(days=rng.randint(-200, 200))
    second = first + timedelta(days=rng.randint(2, 120))
    return {"d": written(first), "e": written(second)}


def _weekday(rng: random.Random, today: date) -> dict:
    return {"w": rng.choice(WEEKDAYS)}


def _holiday(rng: random.Random, today: date) -> dict:
    return {"h": rng.choice(HOLIDAY_NAMES)}


def _date_and_shift(rng: random.Random, today: date) -> dict:
    return {**_other_date(rng, today), "n": rng.randint(2, 20), "unit": rng.choice(("days", "weeks"))}


DATE_TASKS = (
    DateTask("today_date", lambda r, t: {}, "",
             ("What is today's date?", "What's the date today?", "Which date is it today?", "Tell me today's date.",
              "Please tell me the date today.", "What is the current date?", "Can you give me today's date?",
              "Date today, please?", "I need today's date for the poster.", "What day and date is it now?",
              "Which day of the month is it today?", "Today's date is what?", "Do you know the date today?",
              "I lost track of the date. What is it today?", "Which date do we have today?",
              "Which day, month and year is it today?", "Give me the current date.", "What date is it right now?",
              "Remind me of today's date.", "What is the date as of today?", "Could I get the date for today?"),
             ("Could you remind me what the date is today?", "What date are we at today?"),
             "{r}", "date"),
    DateTask("today_weekday", lambda r, t: {}, "",
             ("What day of the week is it today?", "Which weekday is it today?", "What day is it today?",
              "Tell me the day of the week today.", "Which day of the week are we on today?",
              "Is it a weekday or the weekend today, and which day?",
              "What weekday are we on?", "Name the day of the week today.", "Today is which day of the week?",
              "Do you know what day of the week it is?", "Which weekday do we have today?", "What's the weekday today?",
              "Tell me what weekday it is.", "Which day of the week is today?",
              "Right now, what day of the week is it?"),
             ("Is today a Monday or some other day of the week?", "Which of the seven days are we on right now?"),
             "Today is {r}.", "weekday"),
    DateTask("in_future", _shift, "today + {n} {unit}",
             ("What is the date {n} {unit} from today?", "What date will it be in {n} {unit}?",
              "Which date is {n} {unit} from now?", "What is the date in {n} {unit}?",
              "Looking {n} {unit} ahead, what is the date?", "Which date do we reach {n} {unit} later?",
              "Tell me the date {n} {unit} forward from today.",
              "Count {n} {unit} on from today: what date do I get?", "What date is it {n} {unit} after today?",
              "{n} {unit} from today is which date?", "Which date lies {n} {unit} in the future?",
              "Today plus {n} {unit}: what is the date?",
              "Move {n} {unit} forward from today. What date is it?", "Jump {n} {unit} ahead of today. Which date?",
              "What will the date be {n} {unit} from today?", "What date is coming up in {n} {unit}?",
              "Push today forward by {n} {unit}. Which date results?", "In {n} {unit}, what will the date be?",
              "Tell me what the date is {n} {unit} from today.", "Skip ahead {n} {unit}: which date?",
              "Which date arrives {n} {unit} from today?"),
             ("If I count {n} {unit} forward from today, which date do I reach?",
              "Give me the date that falls {n} {unit} from now."),
             "It will be {r}.", "date"),
    DateTask("in_past", _shift, "today - {n} {unit}",
             ("What was the date {n} {unit} ago?", "What date was it {n} {unit} ago?",
              "Which date was {n} {unit} before today?", "Looking {n} {unit} back, what was the date?",
              "Tell me the date {n} {unit} earlier than today.", "Which date was it exactly {n} {unit} back?",
              "Subtract {n} {unit} from today. What date was that?", "{n} {unit} before today was which date?",
              "What date lies {n} {unit} in the past?", "Today minus {n} {unit}: what was the date?",
              "Step back {n} {unit} from today. Which date was it?", "Which date came {n} {unit} before now?",
              "What was the date {n} {unit} earlier?", "{n} {unit} back from today, which date was it?",
              "Which date was it {n} {unit} before now?", "Go {n} {unit} into the past. What date was it?",
              "Take {n} {unit} off today. Which date?", "Tell me the date from {n} {unit} ago."),
             ("Going back {n} {unit} from today, what was the date?",
              "Find the date exactly {n} {unit} ago."),
             "It was {r}.", "date"),
    DateTask("weekday_in_future", _shift, "today + {n} {unit}",
             ("What day of the week will it be in {n} {unit}?", "Which weekday is {n} {unit} from today?",
              "What weekday will it be {n} {unit} from now?", "Looking {n} {unit} ahead, which weekday is it?",
              "Tell me the day of the week {n} {unit} later.",
              "{n} {unit} from today is which day of the week?",
              "Which day of the week comes {n} {unit} after today?", "What weekday is today plus {n} {unit}?",
              "Today plus {n} {unit}: what day of the week?",
              "What day of the week falls {n} {unit} from now?", "Which weekday do we have {n} {unit} from today?",
              "In {n} {unit}, which day of the week is it?", "Which weekday will we be on {n} {unit} from today?",
              "What weekday comes {n} {unit} after today?", "Add {n} {unit} to today: which weekday?",
              "{n} {unit} later, what day of the week is it?", "Name the weekday {n} {unit} ahead."),
             ("Once {n} {unit} have passed, what weekday is it?",
              "Counting {n} {unit} ahead, what weekday do we land on?"),
             "It will be {r}.", "weekday"),
    DateTask("weekday_of_date", lambda r, t: _other_date(r, t, day_first=r.random() < 0.3), "{d}",
             ("What day of the week is {d}?", "Which weekday is {d}?", "What weekday falls on {d}?",
              "Tell me which day of the week {d} is.", "Was or will {d} be a weekend day? Which weekday is it?",
              "{d}: which day of the week is that?", "Do you know the weekday of {d}?",
              "Name the day of the week for {d}.", "The event is on {d}. What day of the week is that?",
              "Which weekday does {d} fall on?", "{d} is which weekday?", "What is the weekday of {d}?",
              "For {d}, what day of the week will it be?", "Check {d} for me: which day of the week?",
              "Which day of the week was {d}?"),
             ("On which day of the week does {d} fall?", "Tell me the weekday of {d}."),
             "It is {r}.", "weekday"),
    DateTask("days_until", _future_date, "days until {d}",
             ("How many days are left until {d}?", "How many days until {d}?",
              "How many days from today until {d}?", "In how many days is {d}?",
              "Tell me the number of days remaining before {d}.",
              "{d} is how many days away?", "How many days do I have until {d}?", "Days left before {d}?",
              "The launch is on {d}. How many days away is it?", "How many days remain until {d}?",
              "How far away is {d} in days?", "Number of days until {d}?",
              "How many days are there between today and {d}?", "{d}: how many days from now?",
              "Until {d}, how many days are left?"),
             ("Count the days remaining until {d}.", "How long is it in days until {d}?"),
             "It is {r} days.", "number"),
    DateTask("days_since", _past_date, "days since {d}",
             ("How many days ago was {d}?", "How many days have passed since {d}?",
              "How many days since {d}?", "How long has it been in days since {d}?",
              "Tell me the number of days gone by since {d}.",
              "{d} was how many days ago?", "How many days back was {d}?", "Days passed since {d}?",
              "We printed the flyers on {d}. How many days ago was that?", "How many days back from today was {d}?",
              "Since {d}, how many days have gone?", "How far back in days is {d}?", "Number of days since {d}?",
              "It has been how many days since {d}?", "{d}: how many days ago?"),
             ("Count the days that have gone by since {d}.", "How long ago in days was {d}?"),
             "It was {r} days.", "number"),
    DateTask("days_between", _two_dates, "days from {d} to {e}",
             ("How many days are there from {d} to {e}?", "How many days is it from {d} to {e}?",
              "Count the days from {d} to {e}.", "Tell me the number of days from {d} to {e}.",
              "From {d} to {e}, how many days pass?",
              "Between {d} and {e}, how many days are there?",
              "The show runs from {d} to {e}. How many days is that?", "Days from {d} until {e}?",
              "How many days lie between {d} and {e}?", "What is the number of days between {d} and {e}?",
              "From {d} through {e}, how many days are there?", "How far apart in days are {d} and {e}?",
              "{d} to {e}: how many days?", "What is the gap in days between {d} and {e}?"),
             ("Work out the gap in days separating {d} and {e}.", "Spanning {d} through {e}, how many days elapse?"),
             "It is {r} days.", "number"),
    DateTask("date_after", _date_and_shift, "{d} + {n} {unit}",
             ("What date is {n} {unit} after {d}?", "Which date comes {n} {unit} after {d}?",
              "Tell me the date {n} {unit} later than {d}.", "If I start on {d} and add {n} {unit}, what date is it?",
              "{d} plus {n} {unit} is which date?", "The shoot is on {d}. What date is {n} {unit} after it?",
              "What is the date {n} {unit} past {d}?", "Move {d} forward by {n} {unit}. Which date?",
              "{n} {unit} after {d} is which date?", "From {d}, go {n} {unit} forward. What is the date?",
              "Which date follows {d} by {n} {unit}?", "Shift {d} by {n} {unit}. Which date is it then?",
              "What is {d} plus {n} {unit}?", "I begin on {d}. What date is it {n} {unit} later?",
              "Starting from {d}, what date is {n} {unit} later?", "Count {n} {unit} on from {d}. Which date?",
              "{d} and then {n} {unit} more: what date?", "Which date is {n} {unit} on from {d}?",
              "Take {d} and add {n} {unit}. What date do I get?", "What date do we reach {n} {unit} after {d}?",
              "Go {n} {unit} beyond {d}. Which date is it?"),
             ("Add {n} {unit} to {d}. Which date is that?", "Starting on {d}, where do {n} {unit} later land?"),
             "It is {r}.", "date"),
    DateTask("next_weekday", _weekday, "next {w}",
             ("What is the date next {w}?", "Which date is next {w}?", "When is next {w}?",
              "Tell me the date of next {w}.", "What date does next {w} fall on?",
              "Next {w} is which date?", "The meeting is next {w}. What date is that?",
              "What will the date be next {w}?", "Date of the coming {w}?",
              "What is the date of the next {w}?", "I need the date for next {w}.",
              "Which day of the month is next {w}?", "Next {w}: what's the date?", "Which date falls on next {w}?",
              "What is the calendar date of next {w}?", "Give me next {w}'s date.",
              "On next {w}, what will the date be?", "Tell me which date the coming {w} is."),
             ("For the {w} coming up next, what is the full date?",
              "When we say next {w}, which calendar date is meant?"),
             "It is {r}.", "date"),
    DateTask("deadline", _shift, "today + {n} {unit}",
             ("The client wants the poster in {n} {unit}. What is the deadline?",
              "The logo is due in {n} {unit}. What date is the deadline?",
              "I have {n} {unit} to finish the mockup. When is it due?",
              "We launch in {n} {unit}. What date is that?",
              "The printer needs {n} {unit}. When will the prints be ready?",
              "The illustration is due {n} {unit} from now. What is the due date?",
              "The exhibition opens in {n} {unit}. On which date?",
              "We deliver in {n} {unit}. What is the delivery date?",
              "The proofs are due {n} {unit} from today. Which date is that?",
              "Files are needed {n} {unit} from now. What is the date then?",
              "The review is {n} {unit} away. On which date?",
              "Our campaign starts {n} {unit} from now. What date is that?",
              "The banner has to be ready in {n} {unit}. What is the date?",
              "Delivery is in {n} {unit}. Which date is that?", "We present the designs in {n} {unit}. On what date?",
              "The brochure ships {n} {unit} from today. When is that?"),
             ("My brief must be delivered {n} {unit} from today. On what date is that?",
              "The print shop needs the files in {n} {unit}. Which date should I plan for?"),
             "The deadline is {r}.", "date"),
    DateTask("days_until_holiday", _holiday, "days until {h}",
             ("How many days until {h}?", "How many days are left until {h}?", "In how many days is {h}?",
              "Tell me the number of days remaining before {h}.",
              "{h} is how many days away?", "How many days do I have until {h}?", "Days left before {h}?",
              "How many days remain until {h}?", "How far away is {h} in days?", "{h}: how many days from now?",
              "Number of days until {h}?"),
             ("Count the days remaining until {h}.", "How long is it in days until {h}?"),
             "It is {r} days.", "number"),
)


OPENERS = ("Quick question: ", "Hi! ", "Hey. ", "For the schedule: ", "Help me plan. ", "One more thing. ")
CLOSERS = (" Thanks!", " Thank you.", " Please answer briefly.", " I need it for the poster.")


def _dressed(rng: random.Random, question: str) -> str:
    """A training question, in one of three cases with a greeting before it or a remark after it."""
    roll = rng.random()
    if roll < 0.15:
        return rng.choice(OPENERS) + question
    if roll < 0.3:
        return question + rng.choice(CLOSERS)
    return question


def random_today(rng: random.Random) -> date:
    return FIRST_DAY + timedelta(days=rng.randint(0, (LAST_DAY - FIRST_DAY).days))


def _expected(task: DateTask, result: str) -> str:
    if task.expect == "number":
        return result
    if task.name.startswith("today_"):
        result = result[len("Today is "):].rstrip(".")
    weekday, month_day, year = result.split(", ")
    return weekday if task.expect == "weekday" else f"{month_day}, {year}"


def date_example(rng: random.Random, *, held_out: bool = False, hinted: bool = False) -> Example:
    """One date question, its `today`, and its answer; `hinted` shows the working in brackets before the answer
    (`It will be [today + 3 days → Sunday, November 29, 2026] Sunday.`): plain text, no tool, that teaches
    the base model to read a bracketed result."""
    task = rng.choice(DATE_TASKS)
    result = None
    while result is None:  # e.g. "days until February 29" has no answer in most years: draw again
        today = random_today(rng)
        slots = task.sample(rng, today)
        argument = task.argument.format(**slots)
        result = Calendar(today)(argument)
    question = rng.choice(task.held_out if held_out else task.train).format(**slots)
    if not held_out:
        question = _dressed(rng, question)
    value = _expected(task, result) if task.expect == "weekday" else result
    if hinted:
        value = f"[{argument or 'today'} → {result}] {value}"
    answer = task.answer.format(r=value)
    return Example(kind="date-hint" if hinted else "date", question=question, answer=answer,
                   expected=_expected(task, result), today=today.isoformat())

