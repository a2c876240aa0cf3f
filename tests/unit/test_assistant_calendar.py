"""The Calendar tool: the paper's answer for today, and date arithmetic with a fixed current date."""

from datetime import date

import pytest
from hypothesis import given, settings, strategies as st

from studio.assistant.calendar import Calendar, format_date

TODAY = date(2026, 11, 26)


@pytest.fixture
def calendar():
    return Calendar(TODAY)


def test_empty_argument_is_the_papers_sentence(calendar):
    assert calendar() == "Today is Thursday, November 26, 2026."
    assert calendar("  ") == "Today is Thursday, November 26, 2026."


@pytest.mark.parametrize("argument, expected", [
    ("today", "Thursday, November 26, 2026"),
    ("tomorrow", "Friday, November 27, 2026"),
    ("yesterday", "Wednesday, November 25, 2026"),
    ("March 5, 2027", "Friday, March 5, 2027"),
    ("March 5 2027", "Friday, March 5, 2027"),
    ("5 March 2027", "Friday, March 5, 2027"),
    ("2027-03-05", "Friday, March 5, 2027"),
    ("Mar 5", "Thursday, March 5, 2026"),
    ("today + 10 days", "Sunday, December 6, 2026"),
    ("today - 2 weeks", "Thursday, November 12, 2026"),
    ("today + 3 months", "Friday, February 26, 2027"),
    ("January 31, 2027 + 1 month", "Sunday, February 28, 2027"),
    ("February 29, 2028 + 1 year", "Wednesday, February 28, 2029"),
    ("March 5, 2027 - 1 day", "Thursday, March 4, 2027"),
    ("next Friday", "Friday, November 27, 2026"),
    ("next Thursday", "Thursday, December 3, 2026"),
    ("last Thursday", "Thursday, November 19, 2026"),
    ("next Monday after March 5, 2027", "Monday, March 8, 2027"),
    ("last Monday before March 5, 2027", "Monday, March 1, 2027"),
    ("weekday of March 5, 2027", "Friday"),
    ("days until Christmas", "29"),
    ("days until December 25, 2026", "29"),
    ("days until November 1", "340"),
    ("days since Halloween", "26"),
    ("days since December 1", "360"),
    ("days from March 1, 2027 to April 2, 2027", "32"),
    ("days from April 2, 2027 to March 1, 2027", "-32"),
    ("days between April 2, 2027 and March 1, 2027", "32"),
    ("Next FRIDAY.", "Friday, November 27, 2026"),
])
def test_arguments(calendar, argument, expected):
    assert calendar(argument) == expected


@pytest.mark.parametrize("argument", [
    "bogus", "February 30, 2027", "2027-13-01", "next Funday", "next Friday before March 5, 2027",
    "today + 1 fortnight", "today + 999999999 days", "days until", "days from March 1 to", "x" * 500,
    "days between March 1, 2027 to April 2, 2027", "today * 2",
])
def test_invalid_arguments_give_none(calendar, argument):
    assert calendar(argument) is None


def test_default_today_is_the_real_date():
    assert Calendar()() == f"Today is {format_date(date.today())}."


@settings(max_examples=100, deadline=None)
@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2900, 1, 1)), st.integers(-3000, 3000))
def test_day_shifts_and_day_counts_agree(today, days):
    calendar = Calendar(today)
    sign = "+" if days >= 0 else "-"
    target = calendar(f"today {sign} {abs(days)} days")
    iso = date.fromordinal(today.toordinal() + days).isoformat()
    assert target == format_date(date.fromisoformat(iso))
    assert calendar(f"days from today to {iso}") == str(days)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=80))
def test_arbitrary_text_never_raises(text):
    result = Calendar(TODAY)(text)
    assert result is None or isinstance(result, str)
