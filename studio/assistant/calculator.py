"""The Calculator tool: + - * / and parentheses on decimals, evaluated by a small parser (never `eval`).

Arithmetic is exact (`fractions.Fraction`); the result is rounded half away from zero to two decimals and
written without trailing zeros (`1350`, `0.29`, `-2.5`). Anything that is not a valid expression, a division by
zero, an expression longer than `MAX_EXPRESSION_CHARS`, nesting deeper than `MAX_DEPTH`, or a value beyond
`MAX_MAGNITUDE` (at any step) gives `None`.
"""

from __future__ import annotations

import re
from fractions import Fraction

MAX_EXPRESSION_CHARS = 200
MAX_DEPTH = 40
MAX_MAGNITUDE = Fraction(10) ** 15

_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d*)?|\.\d+)|(.))")
_OPERATOR_ALIASES = {"×": "*", "÷": "/", "−": "-"}


class _Invalid(Exception):
    """Raised inside the parser for any input that has no result."""


def _tokenize(expression: str) -> list[str | Fraction]:
    tokens: list[str | Fraction] = []
    for match in _TOKEN.finditer(expression):
        number, symbol = match.groups()
        if number is not None:
            tokens.append(Fraction(number))
        elif symbol is not None and not symbol.isspace():
            symbol = _OPERATOR_ALIASES.get(symbol, symbol)
            if symbol not in "+-*/()":
                raise _Invalid(symbol)
            tokens.append(symbol)
    return tokens


class _Parser:
    """Recursive-descent parser: expr := term (('+'|'-') term)*, term := factor (('*'|'/') factor)*,
    factor := ('+'|'-') factor | number | '(' expr ')'."""

    def __init__(self, tokens: list[str | Fraction]):
        self.tokens = tokens
        self.position = 0

    def _peek(self) -> str | Fraction | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def _take(self) -> str | Fraction | None:
        token = self._peek()
        self.position += 1
        return token

    def parse(self) -> Fraction:
        value = self._expression(0)
        if self._peek() is not None:
            raise _Invalid("trailing input")
        return value

    def _expression(self, depth: int) -> Fraction:
        value = self._term(depth)
        while self._peek() in ("+", "-"):
            operator = self._take()
            right = self._term(depth)
            value = _checked(value + right if operator == "+" else value - right)
        return value

    def _term(self, depth: int) -> Fraction:
        value = self._factor(depth)
        while self._peek() in ("*", "/"):
            operator = self._take()
            right = self._factor(depth)
            if operator == "*":
                value = _checked(value * right)
            elif right == 0:
                raise _Invalid("division by zero")
            else:
                value = _checked(value / right)
        return value

    def _factor(self, depth: int) -> Fraction:
        if depth > MAX_DEPTH:
            raise _Invalid("too deep")
        token = self._take()
        if isinstance(token, Fraction):
            return _checked(token)
        if token == "-":
            return -self._factor(depth + 1)
        if token == "+":
            return self._factor(depth + 1)
        if token == "(":
            value = self._expression(depth + 1)
            if self._take() != ")":
                raise _Invalid("unclosed parenthesis")
            return value
        raise _Invalid("expected a number")


def _checked(value: Fraction) -> Fraction:
    if abs(value) > MAX_MAGNITUDE:
        raise _Invalid("too large")
    return value


def evaluate(expression: str) -> Fraction | None:
    """The exact value of `expression`, or None when it has no result."""
    if not isinstance(expression, str) or len(expression) > MAX_EXPRESSION_CHARS:
        return None
    try:
        tokens = _tokenize(expression)
        if not tokens:
            return None
        return _Parser(tokens).parse()
    except _Invalid:
        return None


def format_number(value: Fraction) -> str:
    """`value` rounded half away from zero to two decimals, without trailing zeros."""
    hundredths = (abs(value) * 100 + Fraction(1, 2)).__floor__()
    if value < 0:
        hundredths = -hundredths
    sign = "-" if hundredths < 0 else ""
    whole, cents = divmod(abs(hundredths), 100)
    if cents == 0:
        return f"{sign}{whole}"
    return f"{sign}{whole}.{cents:02d}".rstrip("0")


def calculate(expression: str) -> str | None:
    """The Calculator tool: the rounded result of `expression` as text, or None."""
    value = evaluate(expression)
    return None if value is None else format_number(value)
