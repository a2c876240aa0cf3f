"""The Calendar tool: today's date in the Toolformer paper's form, plus date arithmetic for designers.

Argument syntax (case-insensitive; `DATE` is `today`, `tomorrow`, `yesterday`, `2027-03-05`, `March 5, 2027`,
`March 5 2027`, `5 March 2027`, `Mar 5`, or a named day: `Christmas`, `New Year's Day`, `Halloween`,
`Valentine's Day`; a month and day without a year mean that day in today's year):

| argument                                   | result                                      |
| ------------------------------------------ | ------------------------------------------- |
| (empty)                                    | `Today is Thursday, November 26, 2026.`     |
| `DATE`                                     | `Friday, March 5, 2027`                     |
| `DATE + N UNIT`, `DATE - N UNIT`           | the shifted date (see below)                |
| `next WEEKDAY [after DATE]`                | the first such weekday strictly after DATE (default today) |
| `last WEEKDAY [before DATE]`               | the last such weekday strictly before DATE  |
| `weekday of DATE`                          | `Friday`                                    |
| `days until DATE`                          | whole days from today to DATE (see below)   |
| `days since DATE`                          | whole days from DATE to today (see below)   |
| `days from DATE to DATE`                   | signed whole days from the first to the second |
| `days between DATE and DATE`               | whole days between them, never negative     |

UNIT is day(s), week(s), month(s) or year(s); a month shift keeps the day of the month, clamped to the month's
end. In `days until` a DATE without a year means its next occurrence, in `days since` its last one. Anything
else gives `None`. The current date is fixed by passing `today`.
"""

from __future__ import annotations

import calendar as _calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
NAMED_DAYS = {"christmas": (12, 25), "christmas day": (12, 25), "new year's day": (1, 1), "new year": (1, 1),
              "halloween": (10, 31), "valentine's day": (2, 14)}
MAX_ARGUMENT_CHARS = 120
MAX_SHIFT = 100_000

_MONTH_INDEX = {name.lower(): i + 1 for i, name in enumerate(MONTHS)}
_MONTH_INDEX.update({name[:3].lower(): i + 1 for i, name in enumerate(MONTHS)})
_MONTH_INDEX["sept"] = 9
_WEEKDAY_INDEX = {name.lower(): i for i, name in enumerate(WEEKDAYS)}
_MONTH_RE = "|".join(sorted(_MONTH_INDEX, key=len, reverse=True))
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_MONTH_FIRST = re.compile(rf"({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?")
_DAY_FIRST = re.compile(rf"(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_RE})\.?(?:,?\s+(\d{{4}}))?")
_SHIFT = re.compile(r"(.+?)\s*([+-])\s*(\d{1,6})\s+(day|week|month|year)s?")


def format_date(day: date) -> str:
    """`Friday, March 5, 2027` (English names, independent of the locale)."""
    return f"{WEEKDAYS[day.weekday()]}, {MONTHS[day.month - 1]} {day.day}, {day.year}"


def format_today(day: date) -> str:
    """The paper's Calendar() answer: `Today is Thursday, November 26, 2026.`"""
    return f"Today is {format_date(day)}."


@dataclass(frozen=True)
class _Parsed:
    """A parsed DATE; `has_year` is False for a month and day given without a year."""

    day: date
    has_year: bool = True


def add_months(day: date, months: int) -> date:
    """`day` shifted by whole months, its day clamped to the target month's length."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    if not 1 <= year <= 9999:
        raise ValueError("year out of range")
    last = _calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def shift(day: date, amount: int, unit: str) -> date:
    """`day` plus `amount` units (day, week, month or year; negative amounts go back)."""
    if unit == "day":
        return day + timedelta(days=amount)
    if unit == "week":
        return day + timedelta(weeks=amount)
    if unit == "month":
        return add_months(day, amount)
    return add_months(day, 12 * amount)


class Calendar:
    """The Calendar tool for a fixed `today` (the real current date when None)."""

    def __init__(self, today: date | None = None):
        self.today = today or date.today()

    def __call__(self, argument: str = "") -> str | None:
        if not isinstance(argument, str) or len(argument) > MAX_ARGUMENT_CHARS:
            return None
        text = " ".join(argument.strip().rstrip(".?").split())
        try:
            return self._answer(text)
        except (ValueError, OverflowError):
            return None

    def _answer(self, text: str) -> str | None:
        lower = text.lower()
        if not lower:
            return format_today(self.today)
        if lower.startswith("weekday of "):
            parsed = self._date(text[len("weekday of "):])
            return None if parsed is None else WEEKDAYS[parsed.day.weekday()]
        if lower.startswith("days "):
            count = self._days(text[len("days "):])
            return None if count is None else str(count)
        match = re.fullmatch(r"(next|last)\s+(\w+)(?:\s+(after|before)\s+(.+))?", text, re.IGNORECASE)
        if match and match.group(2).lower() in _WEEKDAY_INDEX:
            return self._relative_weekday(match)
        match = _SHIFT.fullmatch(text)
        if match:
            parsed = self._date(match.group(1))
            amount = int(match.group(3))
            if parsed is None or amount > MAX_SHIFT:
                return None
            sign = 1 if match.group(2) == "+" else -1
            return format_date(shift(parsed.day, sign * amount, match.group(4).lower()))
        parsed = self._date(text)
        return None if parsed is None else format_date(parsed.day)

    def _relative_weekday(self, match: re.Match) -> str | None:
        direction, name, relation, anchor_text = match.groups()
        direction = direction.lower()
        if relation is not None and (relation.lower() == "after") != (direction == "next"):
            return None
        anchor = self.today
        if anchor_text is not None:
            parsed = self._date(anchor_text)
            if parsed is None:
                return None
            anchor = parsed.day
        target = _WEEKDAY_INDEX[name.lower()]
        if direction == "next":
            step = (target - anchor.weekday() - 1) % 7 + 1
            return format_date(anchor + timedelta(days=step))
        step = (anchor.weekday() - target - 1) % 7 + 1
        return format_date(anchor - timedelta(days=step))

    def _days(self, text: str) -> int | None:
        lower = text.lower()
        if lower.startswith("until ") or lower.startswith("to "):
            parsed = self._date(text.split(" ", 1)[1])
            if parsed is None:
                return None
            target = parsed.day
            if not parsed.has_year and target < self.today:
                target = add_months(target, 12)
            return (target - self.today).days
        if lower.startswith("since "):
            parsed = self._date(text.split(" ", 1)[1])
            if parsed is None:
                return None
            origin = parsed.day
            if not parsed.has_year and origin > self.today:
                origin = add_months(origin, -12)
            return (self.today - origin).days
        match = re.fullmatch(r"(from|between)\s+(.+?)\s+(to|and)\s+(.+)", text, re.IGNORECASE)
        if not match or (match.group(1).lower() == "from") != (match.group(3).lower() == "to"):
            return None
        first, second = self._date(match.group(2)), self._date(match.group(4))
        if first is None or second is None:
            return None
        count = (second.day - first.day).days
        return abs(count) if match.group(1).lower() == "between" else count

    def _date(self, text: str) -> _Parsed | None:
        text = text.strip().rstrip(",")
        lower = text.lower()
        relative = {"today": 0, "tomorrow": 1, "yesterday": -1}
        if lower in relative:
            return _Parsed(self.today + timedelta(days=relative[lower]))
        if lower in NAMED_DAYS:
            month, day = NAMED_DAYS[lower]
            return _Parsed(date(self.today.year, month, day), has_year=False)
        match = _ISO.fullmatch(text)
        if match:
            return _Parsed(date(int(match.group(1)), int(match.group(2)), int(match.group(3))))
        match = _MONTH_FIRST.fullmatch(lower)
        if match:
            return self._from_parts(match.group(1), match.group(2), match.group(3))
        match = _DAY_FIRST.fullmatch(lower)
        if match:
            return self._from_parts(match.group(2), match.group(1), match.group(3))
        return None

    def _from_parts(self, month: str, day: str, year: str | None) -> _Parsed:
        month_number = _MONTH_INDEX[month.rstrip(".")]
        if year is None:
            return _Parsed(date(self.today.year, month_number, int(day)), has_year=False)
        return _Parsed(date(int(year), month_number, int(day)))
